import { useCallback, useEffect, useState } from "react";
import { useParams } from "react-router-dom";
import { formatDateTime, formatSignedMoney } from "../../../shared/src/format";
import { api, type Followable, type UserDetail } from "../api";
import Frame, { AdminButton } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import type { MessageKey } from "../i18n/pt";
import { parseDays } from "../lib/board";
import { useSession } from "../session";
import TradesTable from "./TradesTable";

export default function UserDetailPage() {
  const { id } = useParams<{ id: string }>();
  const { t, language } = useI18n();
  const { act, isAdmin } = useSession();
  const [detail, setDetail] = useState<UserDetail | null>(null);
  const [days, setDays] = useState("30");
  const [title, setTitle] = useState("");
  const [message, setMessage] = useState("");
  const [tradesKey, setTradesKey] = useState(0);

  const load = useCallback(async () => setDetail(await api.userDetail(id)), [id]);
  // Copy trading: the trader's opt-in (null: never opted in), read on open and after the switch.
  const [copyLeader, setCopyLeader] = useState<Followable | null | undefined>(undefined);
  const loadCopy = useCallback(
    async () => setCopyLeader((await api.followableRequests()).find((f) => f.user === id) ?? null),
    [id],
  );
  useEffect(() => {
    void loadCopy().catch(() => undefined);
  }, [loadCopy]);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load().catch(() => undefined), 2000);
    return () => clearInterval(timer);
  }, [load]);

  const run = async (action: () => Promise<unknown>, done: string) => {
    await act(action, done);
    await load();
    setTradesKey((k) => k + 1);
  };

  const user = detail?.user;
  if (detail && !user) return <Frame title={t("menu.users")}><p className="empty">{t("users.unknown")}</p></Frame>;
  const adminOnly = t("toast.adminOnly");
  return (
    <Frame title={user?.name ?? t("common.loading")}>
      {user && (
        <div className="detail">
          <section className="card" data-testid="user-profile">
            <h2>{t("users.profile")}</h2>
            <dl>
              <dt>{t("users.email")}</dt><dd data-testid="user-email">{user.email}</dd>
              <dt>{t("users.status")}</dt><dd data-testid="user-status">{t(`status.${user.glimpseStatus}` as MessageKey)}</dd>
              <dt>{t("users.blocked")}</dt><dd data-testid="user-blocked">{user.blocked ? t("users.blockedYes") : t("users.blockedNo")}</dd>
              <dt>{t("users.days")}</dt><dd data-testid="user-days">{user.premiumDays}</dd>
              <dt>{t("users.mode")}</dt><dd>{user.mode} · {user.strategy || "—"}</dd>
              <dt>{t("users.account")}</dt><dd>{user.iqAccountType}</dd>
              <dt>{t("users.session")}</dt><dd>{formatSignedMoney(user.iqSessionProfit ?? 0, language)}</dd>
              <dt>{t("users.server")}</dt><dd>{detail?.server ? `${detail.server.name} (${detail.server.status})` : "—"}</dd>
              <dt>{t("users.openTrades")}</dt><dd data-testid="user-open-trades">{detail?.openTrades.length ?? 0}</dd>
            </dl>
          </section>
          <section className="card" data-testid="user-actions">
            <h2>{t("users.actions")}</h2>
            <div className="action">
              <input data-testid="days-input" value={days} onChange={(e) => setDays(e.target.value)} size={6} />
              <AdminButton isAdmin={isAdmin} testid="grant-days" title={adminOnly} label={t("users.grantDays")}
                onClick={() => { const n = parseDays(days); if (n !== null) void run(() => api.grantDays(id, n), t("toast.done")); }} />
            </div>
            <div className="action">
              {user.blocked ? (
                <AdminButton isAdmin={isAdmin} testid="unblock" title={adminOnly} label={t("users.unblock")} onClick={() => void run(() => api.block(id, false), t("toast.done"))} />
              ) : (
                <AdminButton isAdmin={isAdmin} testid="block" title={adminOnly} label={t("users.block")} onClick={() => void run(() => api.block(id, true), t("toast.done"))} />
              )}
              <button type="button" data-testid="force-stop" onClick={() => void run(() => api.forceStop(id), t("toast.done"))}>{t("users.forceStop")}</button>
              <AdminButton isAdmin={isAdmin} testid="reset-password" title={adminOnly} label={t("users.reset")} onClick={() => void run(() => api.triggerReset(id), t("toast.done"))} />
            </div>
            <form className="action column" onSubmit={(e) => { e.preventDefault(); if (title && message) void run(() => api.sendAlert(id, title, message), t("toast.done")).then(() => { setTitle(""); setMessage(""); }); }}>
              <input data-testid="alert-title" placeholder={t("users.alertTitle")} value={title} onChange={(e) => setTitle(e.target.value)} />
              <textarea data-testid="alert-text" placeholder={t("users.alertText")} value={message} onChange={(e) => setMessage(e.target.value)} />
              <button type="submit" data-testid="send-alert">{t("users.sendAlert")}</button>
            </form>
          </section>
          <section className="card" data-testid="user-copy">
            <h2>{t("copy.title")}</h2>
            {copyLeader === undefined ? (
              <p>{t("common.loading")}</p>
            ) : copyLeader === null || !copyLeader.optedIn ? (
              <p data-testid="copy-not-opted-in">{t("copy.notOptedIn")}</p>
            ) : (
              <label className="action" title={isAdmin ? undefined : adminOnly}>
                <input
                  type="checkbox"
                  role="switch"
                  data-testid="copy-approve"
                  checked={copyLeader.approved}
                  disabled={!isAdmin}
                  onChange={(e) => {
                    const approved = e.target.checked;
                    void act(() => api.approveFollowable(id, approved), t("toast.done")).then(() => loadCopy());
                  }}
                />
                {t("copy.approve")}
              </label>
            )}
            {copyLeader?.optedIn && (
              <p data-testid="copy-state">{copyLeader.approved ? t("copy.approved") : t("copy.pending")}</p>
            )}
          </section>
          <section className="card wide">
            <h2>{t("users.trades")}</h2>
            <TradesTable key={tradesKey} query={{ user: id, limit: 20 }} showUser={false} />
          </section>
          <section className="card wide">
            <h2>{t("users.alerts")}</h2>
            <ul className="alerts">
              {(user.alerts ?? []).slice().reverse().slice(0, 20).map((a) => (
                <li key={a.time + a.title}><strong>{a.title}</strong> · {formatDateTime(Number(a.time), language)}<br />{a.description}</li>
              ))}
            </ul>
          </section>
        </div>
      )}
    </Frame>
  );
}
