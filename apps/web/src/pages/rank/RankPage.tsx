import { useEffect } from "react";
import { api, type RankRow } from "../../api";
import Loading from "../../components/Loading";
import PageFrame from "../../components/PageFrame";
import { useI18n } from "../../i18n/I18nProvider";
import { formatSignedMoney, resultClass } from "../../lib/format";
import { PullToRefresh, useLoaded } from "../../lib/loaded";

/** The period's rank by net result (the server orders it); everyone but the caller under a server-side pseudonym. */
export default function RankPage() {
  const { t, language } = useI18n();
  const { data: rows, error, load } = useLoaded<RankRow[]>(api.getRank);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <PageFrame
      title={t("rank.title")}
      fixed={<PullToRefresh onRefresh={load} />}
    >
      {error && <p role="alert">{error}</p>}
      {rows === null && !error && <Loading />}
      {rows && rows.length === 0 && <p className="empty">{t("rank.empty")}</p>}
      {rows && rows.length > 0 && (
        <table className="data rank" data-testid="rank-table">
          <thead>
            <tr>
              <th>#</th>
              <th>{t("rank.name")}</th>
              <th>{t("rank.profit")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i} className={r.me ? "me" : undefined} aria-current={r.me ? "true" : undefined}>
                <td>{i + 1}</td>
                <td>
                  {r.name}
                  {r.me && <small> ({t("rank.you")})</small>}
                </td>
                <td className={resultClass(r.profit - r.loss)}>
                  {formatSignedMoney(Math.round((r.profit - r.loss) * 100) / 100, language)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </PageFrame>
  );
}
