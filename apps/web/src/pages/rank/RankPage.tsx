import { IonRefresher, IonRefresherContent } from "../../components/ionic/later";
import { useCallback, useEffect, useState } from "react";
import { api, type RankRow } from "../../api";
import Loading from "../../components/Loading";
import PageFrame from "../../components/PageFrame";
import { useI18n } from "../../i18n/I18nProvider";
import { formatSignedMoney, resultClass } from "../../lib/format";
import { describeError } from "../../session/errors";

/** The period's rank by net result (the server orders it); everyone but the caller under a server-side pseudonym. */
export default function RankPage() {
  const { t, language } = useI18n();
  const [rows, setRows] = useState<RankRow[] | null>(null);
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    try {
      setRows(await api.getRank());
      setError("");
    } catch (e) {
      setError(describeError(e, t));
    }
  }, [t]);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <PageFrame
      title={t("rank.title")}
      fixed={
        <IonRefresher slot="fixed" onIonRefresh={(e) => void load().finally(() => e.detail.complete())}>
          <IonRefresherContent />
        </IonRefresher>
      }
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
