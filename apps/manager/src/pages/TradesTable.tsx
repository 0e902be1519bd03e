import { formatDateTime, formatMoney, formatSignedMoney, resultClass } from "../../../shared/src/format";
import { api, idOf, type Query } from "../api";
import { Pager } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import { saveBlob } from "../../../shared/src/download";
import { usePaged } from "../lib/hooks";
import { useSession } from "../session";

/** A paged table of trades for `query`, with the streamed CSV export of every matching trade. */
export default function TradesTable({ query, showUser = true }: { query: Query; showUser?: boolean }) {
  const { t, language } = useI18n();
  const { act } = useSession();
  const pager = usePaged(api.trades, query);
  const exportCsv = async () => {
    const { limit: _limit, ...filters } = query;
    void _limit;
    const blob = await act(() => api.exportTrades(filters));
    if (blob) saveBlob(blob, "trades.csv");
  };
  return (
    <div className="trades">
      <div className="row-actions">
        <button type="button" onClick={exportCsv} data-testid="export-csv">{t("trades.export")}</button>
      </div>
      <table className="list" data-testid="trades-table">
        <thead>
          <tr>
            <th>{t("trades.when")}</th>{showUser && <th>{t("trades.user")}</th>}<th>{t("trades.pair")}</th><th>{t("trades.direction")}</th>
            <th>{t("trades.amount")}</th><th>{t("trades.gale")}</th><th>{t("trades.result")}</th><th>{t("trades.profit")}</th><th>{t("trades.mode")}</th>
          </tr>
        </thead>
        <tbody>
          {pager.rows.map((tr) => (
            <tr key={idOf(tr._id)} data-testid="trade-row">
              <td>{formatDateTime(tr.decidedAt, language)}</td>
              {showUser && <td className="mono">{tr.user}</td>}
              <td>{tr.ativo}</td>
              <td className={`direction ${tr.operacao}`}>{tr.operacao}</td>
              <td className="num">{formatMoney(tr.amount, language)}</td>
              <td className="num">{tr.galeLevel}</td>
              <td>{tr.result ?? tr.status}</td>
              <td className={`num ${tr.profit === null ? "" : resultClass(tr.profit)}`}>{tr.profit === null ? "—" : formatSignedMoney(tr.profit, language)}</td>
              <td>{tr.mode ? t(`trades.mode.${tr.mode}`) : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!pager.loading && pager.rows.length === 0 && <p className="empty">{t("common.none")}</p>}
      <Pager pager={pager} />
    </div>
  );
}
