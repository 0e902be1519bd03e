import { useState } from "react";
import { type Query } from "../api";
import Frame from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import { dayToEpoch } from "../lib/board";
import TradesTable from "./TradesTable";

export default function TradesPage() {
  const { t } = useI18n();
  const [form, setForm] = useState({ user: "", ativo: "", result: "", mode: "", since: "", until: "" });
  const [query, setQuery] = useState<Query>({ limit: 50 });
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  const apply = () =>
    setQuery({
      limit: 50,
      user: form.user.trim() || undefined,
      ativo: form.ativo.trim().toUpperCase() || undefined,
      result: form.result || undefined,
      mode: form.mode || undefined,
      since: dayToEpoch(form.since) ?? undefined,
      until: dayToEpoch(form.until, true) ?? undefined,
    });
  return (
    <Frame title={t("menu.trades")}>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); apply(); }}>
        <input placeholder={t("trades.userId")} value={form.user} onChange={set("user")} data-testid="trades-user" />
        <input placeholder={t("trades.pair")} value={form.ativo} onChange={set("ativo")} size={8} />
        <select value={form.result} onChange={set("result")} data-testid="trades-result">
          <option value="">{t("trades.anyResult")}</option>
          {["win", "loss", "doji", "failed"].map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
        <select value={form.mode} onChange={set("mode")} data-testid="trades-mode" aria-label={t("trades.mode")}>
          <option value="">{t("trades.anyMode")}</option>
          {(["strategy", "signals", "copy"] as const).map((m) => <option key={m} value={m}>{t(`trades.mode.${m}`)}</option>)}
        </select>
        <label>{t("trades.from")} <input type="date" value={form.since} onChange={set("since")} /></label>
        <label>{t("trades.to")} <input type="date" value={form.until} onChange={set("until")} /></label>
        <button type="submit" className="primary">{t("common.search")}</button>
      </form>
      <TradesTable key={JSON.stringify(query)} query={query} />
    </Frame>
  );
}
