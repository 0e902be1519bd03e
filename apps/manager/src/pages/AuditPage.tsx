import { useState } from "react";
import { formatDateTime } from "../../../shared/src/format";
import { api, idOf, type Query } from "../api";
import Frame, { Pager } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import { auditValue, dayToEpoch } from "../lib/board";
import { usePaged } from "../lib/hooks";

export default function AuditPage() {
  const { t, language } = useI18n();
  const [form, setForm] = useState({ who: "", didWhat: "", since: "", until: "" });
  const [query, setQuery] = useState<Query>({ limit: 50 });
  const pager = usePaged(api.audit, query);
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  return (
    <Frame title={t("menu.audit")}>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); setQuery({ limit: 50, who: form.who.trim(), didWhat: form.didWhat.trim(), since: dayToEpoch(form.since) ?? undefined, until: dayToEpoch(form.until, true) ?? undefined }); }}>
        <input placeholder={t("audit.who")} value={form.who} onChange={set("who")} data-testid="audit-who" />
        <input placeholder={t("audit.action")} value={form.didWhat} onChange={set("didWhat")} data-testid="audit-action" />
        <label>{t("trades.from")} <input type="date" value={form.since} onChange={set("since")} /></label>
        <label>{t("trades.to")} <input type="date" value={form.until} onChange={set("until")} /></label>
        <button type="submit" className="primary">{t("common.search")}</button>
      </form>
      <table className="list" data-testid="audit-table">
        <thead><tr><th>{t("audit.when")}</th><th>{t("audit.who")}</th><th>{t("audit.action")}</th><th>{t("audit.target")}</th><th>{t("audit.before")}</th><th>{t("audit.after")}</th></tr></thead>
        <tbody>
          {pager.rows.map((r) => (
            <tr key={idOf(r._id)} data-testid="audit-row">
              <td>{formatDateTime(r.when, language)}</td><td>{r.who}</td><td>{r.didWhat}</td><td>{r.target}</td>
              <td className="mono">{auditValue(r.from)}</td><td className="mono">{auditValue(r.to)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pager={pager} />
    </Frame>
  );
}
