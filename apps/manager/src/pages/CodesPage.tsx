import { useState } from "react";
import { formatDateTime } from "../../../shared/src/format";
import { api, type Query } from "../api";
import Frame, { AdminButton, Pager } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import { usePaged } from "../lib/hooks";
import { useSession } from "../session";

export default function CodesPage() {
  const { t, language } = useI18n();
  const { act, isAdmin } = useSession();
  const [count, setCount] = useState("5");
  const [days, setDays] = useState("30");
  const [created, setCreated] = useState<string[]>([]);
  const [used, setUsed] = useState("");
  const [query, setQuery] = useState<Query>({ limit: 50 });
  const pager = usePaged(api.codes, query);

  const create = async () => {
    const answer = await act(() => api.createCodes(Number(count), Number(days)), t("toast.done"));
    if (answer) {
      setCreated(answer.codes);
      pager.reload();
    }
  };
  return (
    <Frame title={t("menu.codes")}>
      <section className="card">
        <h2>{t("codes.create")}</h2>
        <div className="action">
          <label>{t("codes.count")} <input data-testid="codes-count" value={count} onChange={(e) => setCount(e.target.value)} size={4} /></label>
          <label>{t("codes.days")} <input data-testid="codes-days" value={days} onChange={(e) => setDays(e.target.value)} size={5} /></label>
          <AdminButton isAdmin={isAdmin} testid="codes-create" title={t("toast.adminOnly")} label={t("codes.createButton")} onClick={() => void create()} />
        </div>
        {created.length > 0 && (
          <ul className="created" data-testid="codes-created">
            {created.map((c) => <li key={c} className="mono">{c}</li>)}
          </ul>
        )}
      </section>
      <div className="filters">
        <select value={used} onChange={(e) => { setUsed(e.target.value); setQuery({ limit: 50, used: e.target.value === "" ? undefined : e.target.value === "yes" }); }} data-testid="codes-used">
          <option value="">{t("codes.all")}</option>
          <option value="no">{t("codes.unused")}</option>
          <option value="yes">{t("codes.used")}</option>
        </select>
      </div>
      <table className="list" data-testid="codes-table">
        <thead><tr><th>{t("codes.code")}</th><th>{t("codes.days")}</th><th>{t("codes.usedBy")}</th><th>{t("codes.usedWhen")}</th><th /></tr></thead>
        <tbody>
          {pager.rows.map((c) => (
            <tr key={c.code}>
              <td className="mono">{c.code}</td>
              <td className="num">{c.premiumDays}</td>
              <td>{c.usedBy || (c.revoked ? t("codes.revoked") : "—")}</td>
              <td>{c.usedWhen ? formatDateTime(c.usedWhen, language) : "—"}</td>
              <td>{c.valid && !c.usedBy && (
                <AdminButton isAdmin={isAdmin} testid={`revoke-${c.code}`} title={t("toast.adminOnly")} label={t("codes.revoke")}
                  onClick={() => void act(() => api.revokeCode(c.code), t("toast.done")).then(pager.reload)} />
              )}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pager={pager} />
    </Frame>
  );
}
