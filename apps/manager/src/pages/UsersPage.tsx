import { useState } from "react";
import { useHistory } from "react-router-dom";
import { formatSignedMoney } from "../../../shared/src/format";
import { api, idOf, type Query } from "../api";
import Frame, { Pager } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import type { MessageKey } from "../i18n/pt";
import { STATUSES } from "../lib/board";
import { usePaged } from "../lib/hooks";

const PAGE_SIZE = 25;

function triState(value: string): boolean | undefined {
  return value === "yes" ? true : value === "no" ? false : undefined;
}

export default function UsersPage() {
  const { t, language } = useI18n();
  const history = useHistory();
  const [text, setText] = useState("");
  const [query, setQuery] = useState<Query>({ limit: PAGE_SIZE });
  const [status, setStatus] = useState("");
  const [premium, setPremium] = useState("");
  const [blocked, setBlocked] = useState("");
  const pager = usePaged(api.users, query);

  const search = () => setQuery({ limit: PAGE_SIZE, q: text.trim(), status, premium: triState(premium), blocked: triState(blocked) });

  return (
    <Frame title={t("menu.users")}>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); search(); }}>
        <input data-testid="users-search" placeholder={t("users.search")} value={text} onChange={(e) => setText(e.target.value)} />
        <select data-testid="users-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">{t("users.anyStatus")}</option>
          {STATUSES.map((s) => <option key={s} value={s}>{t(`status.${s}` as MessageKey)}</option>)}
        </select>
        <select data-testid="users-premium" value={premium} onChange={(e) => setPremium(e.target.value)}>
          <option value="">{t("users.premiumAny")}</option>
          <option value="yes">{t("users.premiumYes")}</option>
          <option value="no">{t("users.premiumNo")}</option>
        </select>
        <select data-testid="users-blocked" value={blocked} onChange={(e) => setBlocked(e.target.value)}>
          <option value="">{t("users.blockedAny")}</option>
          <option value="yes">{t("users.blockedYes")}</option>
          <option value="no">{t("users.blockedNo")}</option>
        </select>
        <button type="submit" className="primary" data-testid="users-go">{t("common.search")}</button>
      </form>
      <table className="list" data-testid="users-table">
        <thead>
          <tr><th>{t("users.name")}</th><th>{t("users.email")}</th><th>{t("users.status")}</th><th>{t("users.days")}</th><th>{t("users.period")}</th></tr>
        </thead>
        <tbody>
          {pager.rows.map((u) => (
            <tr key={idOf(u._id)} className="clickable" onClick={() => history.push(`/users/${idOf(u._id)}`)} data-testid="user-row">
              <td>{u.name}{u.blocked && <span className="tag danger">{t("users.blockedTag")}</span>}</td>
              <td>{u.email}</td>
              <td>{t(`status.${u.glimpseStatus}` as MessageKey)}</td>
              <td className="num">{u.premiumDays}</td>
              <td className="num">{formatSignedMoney((u.iqPeriodProfit ?? 0) - (u.iqPeriodLoss ?? 0), language)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!pager.loading && pager.rows.length === 0 && <p className="empty">{t("common.none")}</p>}
      <Pager pager={pager} />
    </Frame>
  );
}
