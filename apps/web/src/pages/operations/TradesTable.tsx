import { IonButton } from "@ionic/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { saveBlob } from "../../../../shared/src/download";
import { api } from "../../api";
import type { MessageKey } from "../../i18n/core";
import { useI18n } from "../../i18n/I18nProvider";
import { formatDateTime, formatMoney, formatSignedMoney, resultClass } from "../../lib/format";
import {
  formatQuote,
  nextSort,
  sortTrades,
  type SortDir,
  type SortKey,
  type TradeFilters,
  type TradeRow,
  type TradeTotals,
} from "../../lib/trades";
import { describeError } from "../../session/errors";
import { useAccount } from "../../session/AccountProvider";

const REFRESH_MS = 5000;
const PAGE = 100;

const COLUMNS: { key: SortKey; label: MessageKey }[] = [
  { key: "decidedAt", label: "trades.time" },
  { key: "ativo", label: "trades.pair" },
  { key: "galeLevel", label: "trades.level" },
  { key: "amount", label: "trades.stake" },
  { key: "openPrice", label: "trades.open" },
  { key: "closePrice", label: "trades.close" },
  { key: "result", label: "trades.result" },
  { key: "profit", label: "trades.profit" },
];

/** The ledger's trades: filtered on the server, sorted here, refreshed while the page is open. */
export default function TradesTable() {
  const { t, language } = useI18n();
  const { marketTz } = useAccount();
  const [draft, setDraft] = useState<TradeFilters>({});
  const [filters, setFilters] = useState<TradeFilters>({});
  const [rows, setRows] = useState<TradeRow[] | null>(null);
  const [totals, setTotals] = useState<TradeTotals | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [sort, setSort] = useState<{ key: SortKey; dir: SortDir }>({ key: "decidedAt", dir: "desc" });
  const [error, setError] = useState("");
  const [exporting, setExporting] = useState(false);
  const loaded = useRef(PAGE);
  const generation = useRef(0);

  const load = useCallback(async () => {
    // An answer for older filters never overwrites a newer one.
    const mine = ++generation.current;
    try {
      const page = await api.getUserTrades(filters, Math.min(500, loaded.current));
      if (mine !== generation.current) return;
      setRows(page.items);
      setTotals(page.totals);
      setNext(page.next);
      setError("");
    } catch (e) {
      if (mine === generation.current) setError(describeError(e, t));
    }
  }, [filters, t]);

  useEffect(() => {
    loaded.current = PAGE;
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void load();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  const more = async () => {
    if (!next) return;
    try {
      const page = await api.getUserTrades(filters, PAGE, next);
      loaded.current += page.items.length;
      setRows((r) => [...(r ?? []), ...page.items]);
      setNext(page.next);
    } catch (e) {
      setError(describeError(e, t));
    }
  };

  const exportCsv = async () => {
    setExporting(true);
    try {
      saveBlob(await api.exportUserTrades(filters), "glimpse-trades.csv");
    } catch (e) {
      setError(describeError(e, t));
    } finally {
      setExporting(false);
    }
  };

  const sorted = useMemo(() => sortTrades(rows ?? [], sort.key, sort.dir), [rows, sort]);
  const pairs = useMemo(() => [...new Set((rows ?? []).map((r) => r.ativo))].sort(), [rows]);
  const field = (key: keyof TradeFilters) => ({
    value: draft[key] ?? "",
    onChange: (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: e.target.value })),
  });

  return (
    <section className="trades ion-padding" data-testid="trades">
      <h2>{t("trades.title")}</h2>
      <form
        className="trade-filters"
        data-testid="trade-filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...draft });
        }}
      >
        <label>
          {t("trades.from")}
          <input type="date" name="fromDate" {...field("fromDate")} />
        </label>
        <label>
          {t("trades.to")}
          <input type="date" name="toDate" {...field("toDate")} />
        </label>
        <label>
          {t("trades.pair")}
          <input name="ativo" list="trade-pairs" placeholder="EURUSD" {...field("ativo")} />
          <datalist id="trade-pairs">
            {pairs.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
        </label>
        <label>
          {t("trades.result")}
          <select name="result" {...field("result")}>
            <option value="">{t("trades.any")}</option>
            <option value="win">{t("trades.win")}</option>
            <option value="loss">{t("trades.loss")}</option>
            <option value="doji">{t("trades.doji")}</option>
            <option value="open">{t("trades.pending")}</option>
          </select>
        </label>
        <label>
          {t("trades.mode")}
          <select name="mode" {...field("mode")}>
            <option value="">{t("trades.any")}</option>
            <option value="strategy">{t("mode.strategy")}</option>
            <option value="signals">{t("mode.signals")}</option>
            <option value="copy">{t("trades.copy")}</option>
          </select>
        </label>
        <div className="buttons">
          <IonButton type="submit" size="small" data-testid="apply-filters">
            {t("trades.apply")}
          </IonButton>
          <IonButton size="small" fill="outline" disabled={exporting} onClick={() => void exportCsv()} data-testid="export-csv">
            {t("trades.export")}
          </IonButton>
        </div>
      </form>
      {error && <p role="alert">{error}</p>}
      {totals && (
        <p className="trade-totals" data-testid="trade-totals">
          {t("trades.totals", { n: totals.trades, w: totals.wins, l: totals.losses, d: totals.dojis })} ·{" "}
          {t("trades.staked")} {formatMoney(totals.staked, language)} · {t("trades.net")}{" "}
          <strong className={resultClass(totals.net)} data-testid="trade-net">
            {formatSignedMoney(totals.net, language)}
          </strong>
        </p>
      )}
      {rows && rows.length === 0 && <p className="empty">{t("trades.empty")}</p>}
      {rows && rows.length > 0 && (
        // On a phone the table's header (its sort buttons) gives way to cards: the same sort, here.
        <div className="trade-sort" data-testid="trade-sort">
          <label>
            {t("trades.sortBy")}
            <select
              name="sortKey"
              value={sort.key}
              onChange={(e) => setSort((s) => ({ key: e.target.value as SortKey, dir: s.dir }))}
            >
              {COLUMNS.map((c) => (
                <option key={c.key} value={c.key}>
                  {t(c.label)}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="sort-dir"
            name="sortDir"
            aria-pressed={sort.dir === "asc"}
            onClick={() => setSort((s) => ({ key: s.key, dir: s.dir === "asc" ? "desc" : "asc" }))}
          >
            {sort.dir === "asc" ? `▲ ${t("trades.sortAsc")}` : `▼ ${t("trades.sortDesc")}`}
          </button>
        </div>
      )}
      {rows && rows.length > 0 && (
        <table className="data trades-table" data-testid="trades-table">
          <caption className="sr-only">{t("trades.caption", { tz: marketTz })}</caption>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.key} aria-sort={sort.key === c.key ? (sort.dir === "asc" ? "ascending" : "descending") : "none"}>
                  <button type="button" className="sort" onClick={() => setSort((s) => nextSort(s, c.key))}>
                    {t(c.label)}
                    {sort.key === c.key ? (sort.dir === "asc" ? " ▲" : " ▼") : ""}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {sorted.map((r) => (
              <tr key={r._id} data-testid="trade-row" data-id={r._id}>
                <td data-label={t("trades.time")}>{formatDateTime(r.decidedAt, language, marketTz)}</td>
                <td data-label={t("trades.pair")}>
                  {r.ativo} <span className={`direction ${r.operacao}`}>{r.operacao.toUpperCase()}</span>
                </td>
                <td data-label={t("trades.level")}>{r.galeLevel === 0 ? t("glimpse.entry") : t("glimpse.gale", { n: r.galeLevel })}</td>
                <td data-label={t("trades.stake")}>{formatMoney(r.amount, language)}</td>
                <td data-label={t("trades.open")}>{formatQuote(r.openPrice)}</td>
                <td data-label={t("trades.close")}>{formatQuote(r.closePrice)}</td>
                <td data-label={t("trades.result")}>{t(r.result ? (`trades.${r.result}` as MessageKey) : "trades.pending")}</td>
                <td data-label={t("trades.profit")} className={r.profit === null ? undefined : resultClass(r.profit)}>
                  {r.profit === null ? "—" : formatSignedMoney(r.profit, language)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <IonButton fill="clear" onClick={() => void more()} data-testid="more-trades">
          {t("trades.more")}
        </IonButton>
      )}
    </section>
  );
}
