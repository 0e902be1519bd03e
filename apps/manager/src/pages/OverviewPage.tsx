import { formatAge, formatPercent, formatSignedMoney, resultClass } from "../../../shared/src/format";
import { api } from "../api";
import Frame from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import type { MessageKey } from "../i18n/pt";
import { hourBars, statusRows, winRate } from "../lib/board";
import { usePoll } from "../lib/hooks";

export default function OverviewPage() {
  const { t, language } = useI18n();
  const { data, error } = usePoll(api.overview, 1000);
  return (
    <Frame title={t("menu.overview")}>
      {error !== null && <p className="error">{t("overview.stale")}</p>}
      {!data ? (
        <p className="empty">{t("common.loading")}</p>
      ) : (
        <div className="board">
          <section className="card" data-testid="users-by-status">
            <h2>{t("overview.users")}</h2>
            <table>
              <tbody>
                {statusRows(data.users).map((row) => (
                  <tr key={row.status} data-testid={`status-${row.status}`}>
                    <td>{t(`status.${row.status}` as MessageKey)}</td>
                    <td className="num">{row.count}</td>
                  </tr>
                ))}
                <tr>
                  <td>{t("overview.blocked")}</td>
                  <td className="num">{data.blocked}</td>
                </tr>
              </tbody>
            </table>
          </section>
          <section className="card" data-testid="today">
            <h2>{t("overview.today")}</h2>
            <div className="figures">
              <div><span>{t("overview.orders")}</span><strong data-testid="today-orders">{data.today.orders}</strong></div>
              <div><span>{t("result.win")}</span><strong className="win" data-testid="today-wins">{data.today.win}</strong></div>
              <div><span>{t("result.loss")}</span><strong className="loss" data-testid="today-losses">{data.today.loss}</strong></div>
              <div><span>{t("result.doji")}</span><strong data-testid="today-dojis">{data.today.doji}</strong></div>
              <div><span>{t("overview.winRate")}</span><strong>{formatPercent(winRate(data.today), language)}</strong></div>
              <div><span>{t("overview.net")}</span><strong className={resultClass(data.today.net)} data-testid="today-net">{formatSignedMoney(data.today.net, language)}</strong></div>
            </div>
          </section>
          <section className="card wide">
            <h2>{t("overview.perHour")}</h2>
            <div className="bars" aria-label={t("overview.perHour")}>
              {hourBars(data.perHour).map((bar) => (
                <div key={bar.hour} className="bar" title={`${bar.hour}h: ${bar.orders} · ${formatSignedMoney(bar.net, language)}`}>
                  <div className="orders" style={{ height: `${bar.height * 60}px` }} />
                  <div className={`net ${bar.net >= 0 ? "up" : "down"}`} style={{ height: `${Math.abs(bar.netHeight) * 30}px` }} />
                  <span>{bar.hour}</span>
                </div>
              ))}
            </div>
            <p className="hint">{t("overview.legend")}</p>
          </section>
          <section className="card wide" data-testid="servers-board">
            <h2>{t("overview.servers")}</h2>
            <table>
              <thead>
                <tr><th>{t("servers.name")}</th><th>{t("servers.status")}</th><th>{t("servers.user")}</th><th>{t("servers.heartbeat")}</th></tr>
              </thead>
              <tbody>
                {data.servers.map((s) => (
                  <tr key={s.name} className={s.alive ? "" : "dead"} data-testid={`server-${s.name}`}>
                    <td>{s.name}</td>
                    <td>{s.status}{s.drain ? ` · ${t("servers.draining")}` : ""}</td>
                    <td>{s.target || "—"}</td>
                    <td>{formatAge(s.age)}{s.alive ? "" : ` · ${t("servers.outOfLease")}`}</td>
                  </tr>
                ))}
                {data.services.map((s) => (
                  <tr key={s.name} className={s.alive ? "service" : "service dead"}>
                    <td>{s.name}</td><td>{t("servers.service")}</td><td>—</td><td>{formatAge(s.age)}{s.alive ? "" : ` · ${t("servers.outOfLease")}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>
      )}
    </Frame>
  );
}
