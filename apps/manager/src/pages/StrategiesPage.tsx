import { useCallback, useEffect, useState } from "react";
import { formatPercent } from "../../../shared/src/format";
import { api, type Strategy } from "../api";
import Frame, { AdminButton } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import { useSession } from "../session";

const EMPTY = { name: "Glimpse ", sequence: "-1,-1,1", operation: "call" as const, mirror: false };

export default function StrategiesPage() {
  const { t, language } = useI18n();
  const { act, isAdmin } = useSession();
  const [list, setList] = useState<Strategy[]>([]);
  const [form, setForm] = useState<Omit<Strategy, "createdBy">>(EMPTY);
  const [editing, setEditing] = useState(false);
  const [report, setReport] = useState<string>("");

  const load = useCallback(async () => setList((await api.strategies()).filter((s) => s.createdBy === "Glimpse")), []);
  useEffect(() => void load(), [load]);

  const save = async () => {
    const answer = await act(() => (editing ? api.editStrategy(form) : api.createStrategy(form)), t("toast.done"));
    if (answer) {
      setForm(EMPTY);
      setEditing(false);
      await load();
    }
  };
  const test = async () => {
    const answer = await act(() => api.backtest({ sequence: form.sequence, operation: form.operation, mirror: form.mirror, gales: 1, days: 5 }));
    const total = (answer?.total ?? {}) as { signals?: number; win_rate_cumulative?: number[] | number };
    const rates = total.win_rate_cumulative;
    const rate = Array.isArray(rates) ? rates[rates.length - 1] : rates;
    if (answer) setReport(t("strategies.report", { n: total.signals ?? 0, rate: formatPercent(rate ?? null, language) }));
  };
  return (
    <Frame title={t("menu.strategies")}>
      <section className="card">
        <h2>{editing ? t("strategies.edit") : t("strategies.new")}</h2>
        <div className="action column">
          <input data-testid="strategy-name" value={form.name} disabled={editing} onChange={(e) => setForm({ ...form, name: e.target.value })} placeholder={t("strategies.name")} />
          <input data-testid="strategy-sequence" value={form.sequence} onChange={(e) => setForm({ ...form, sequence: e.target.value })} placeholder="-1,-1,1" />
          <p className="hint">{t("strategies.sequenceHint")}</p>
          <select data-testid="strategy-operation" value={form.operation} onChange={(e) => setForm({ ...form, operation: e.target.value as "call" | "put" })}>
            <option value="call">call</option>
            <option value="put">put</option>
          </select>
          <label><input type="checkbox" checked={form.mirror} onChange={(e) => setForm({ ...form, mirror: e.target.checked })} /> {t("strategies.mirror")}</label>
          <div className="row-actions">
            <button type="button" onClick={() => void test()} data-testid="strategy-test">{t("strategies.test")}</button>
            <AdminButton isAdmin={isAdmin} testid="strategy-save" title={t("toast.adminOnly")} label={t("common.save")} onClick={() => void save()} />
          </div>
          {report && <p data-testid="strategy-report">{report}</p>}
        </div>
      </section>
      <table className="list" data-testid="strategies-table">
        <thead><tr><th>{t("strategies.name")}</th><th>{t("strategies.sequence")}</th><th>{t("strategies.operation")}</th><th>{t("strategies.mirror")}</th><th /></tr></thead>
        <tbody>
          {list.map((s) => (
            <tr key={s.name}>
              <td>{s.name}</td><td className="mono">{s.sequence}</td><td>{s.operation}</td><td>{s.mirror ? "✓" : ""}</td>
              <td>
                <button type="button" onClick={() => { setForm({ name: s.name, sequence: s.sequence, operation: s.operation, mirror: s.mirror }); setEditing(true); }}>{t("strategies.editButton")}</button>
                <AdminButton isAdmin={isAdmin} testid={`retire-${s.name}`} title={t("toast.adminOnly")} label={t("strategies.retire")}
                  onClick={() => void act(() => api.retireStrategy(s.name), t("toast.done")).then(load)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Frame>
  );
}
