import { IonNote } from "@ionic/react";
import { IonSegment, IonSegmentButton } from "../../components/ionic/later";
import { useEffect, useState } from "react";
import { ApiError, api, type BacktestReport, type MoneySettings } from "../../api";
import Loading from "../../components/Loading";
import { useI18n } from "../../i18n/I18nProvider";
import { PERIODS, moneyVerdict, periodQuery, reportRows, type PeriodKey, type Row } from "../../lib/backtest";
import { formatDateTime, formatMoney, formatPercent, formatSignedMoney } from "../../lib/format";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import CumulativeChart from "../operations/CumulativeChart";

const GALE_CHOICES = [0, 1, 2, 3];
const FALLBACK_MONEY: Pick<MoneySettings, "money" | "galeType" | "sobra"> = { money: 2, galeType: "dobro", sobra: 0 };

interface Props {
  sequence: string;
  operation: "call" | "put";
  mirror: boolean;
  gales: number;
  /** The money the strategy trades with (a Glimpse strategy brings its own); default: the trader's. */
  money?: Pick<MoneySettings, "money" | "galeType" | "sobra">;
}

function levelName(level: number, t: ReturnType<typeof useI18n>["t"]): string {
  return level === 0 ? t("glimpse.entry") : t("glimpse.gale", { n: level });
}

/** One pair (or the total) as a card: every figure readable on a phone without scrolling sideways. */
function ResultCard({ row, levels, total }: { row: Row; levels: number; total: boolean }) {
  const { t, language } = useI18n();
  const pct = (f: number | null | undefined) => formatPercent(f, language, 1);
  const s = row.stats;
  const verdict = moneyVerdict(s);
  return (
    <article className={`bt-card verdict-${verdict}`} data-verdict={verdict} data-testid={total ? "backtest-total" : "backtest-card"} data-pair={row.label}>
      <header>
        <h3>{row.label}</h3>
        {s.payout !== undefined && <span className="bt-payout">{t("backtest.atPayout", { n: s.payout })}</span>}
      </header>
      <p className={`bt-net ${verdict}`} data-testid="backtest-net">
        {formatSignedMoney(s.net_profit ?? 0, language)}
      </p>
      <dl>
        <dt>{t("backtest.signalsCol")}</dt>
        <dd>{s.signals}</dd>
        {Array.from({ length: levels }, (_, i) => (
          <div key={i} className="bt-pair">
            <dt>{t("backtest.winAt", { level: levelName(i, t) })}</dt>
            <dd>
              {pct(s.win_rate_at[i])} <small>({s.win_at[i] ?? 0})</small>
            </dd>
          </div>
        ))}
        <dt>{t("backtest.loss")}</dt>
        <dd>
          {pct(row.lossRate)} <small>({s.loss})</small>
        </dd>
        <dt>{t("backtest.hitRate")}</dt>
        <dd data-testid="backtest-hit">{pct(s.hit_rate ?? row.winRate)}</dd>
        <dt>{t("backtest.breakEven")}</dt>
        <dd data-testid="backtest-break-even">{pct(s.break_even)}</dd>
        <dt>{t("backtest.drawdown")}</dt>
        <dd>{formatMoney(s.max_drawdown ?? 0, language)}</dd>
        <dt>{t("backtest.streak")}</dt>
        <dd>{s.longest_losing_streak ?? 0}</dd>
        <dt>Doji</dt>
        <dd>{s.dojis}</dd>
      </dl>
      {s.equity && s.equity.length > 1 && (
        <CumulativeChart
          points={s.equity.slice(1).map((value, i) => ({ t: i, value }))}
          label={t("backtest.equity", { pair: row.label })}
        />
      )}
    </article>
  );
}

/** The strategy on past candles (backtestStrategy) in money: per pair and in total, at each pair's payout. */
export default function BacktestView(props: Props) {
  const { t, language } = useI18n();
  const { account, marketTz } = useAccount();
  const [gales, setGales] = useState(Math.min(props.gales, GALE_CHOICES[GALE_CHOICES.length - 1]));
  const [period, setPeriod] = useState<PeriodKey>("stored");
  const [report, setReport] = useState<BacktestReport | null>(null);
  const [error, setError] = useState("");
  const money = props.money ?? account?.strategySettings ?? FALLBACK_MONEY;
  // The pairs the bot will trade (the trader's choice), or every pair.
  const chosenPairs = account?.preferedActives && account.preferedActives !== "todos" ? account.preferedActives : "";
  const [scope, setScope] = useState<"mine" | "all">(chosenPairs ? "mine" : "all");
  const pairs = scope === "mine" && chosenPairs ? chosenPairs.split(",") : undefined;

  useEffect(() => {
    let current = true;
    setReport(null);
    setError("");
    api
      .backtestStrategy({
        sequence: props.sequence,
        operation: props.operation,
        mirror: props.mirror,
        gales,
        ...periodQuery(period),
        ...(pairs ? { pairs } : {}),
        stake: Math.max(1, money.money),
        galeType: money.galeType,
        sobra: money.galeType === "sobra" ? money.sobra : 0,
      })
      .then((r) => current && setReport(r))
      .catch((e) => {
        if (!current) return;
        setError(e instanceof ApiError && e.status === 404 ? t("backtest.unavailable") : describeError(e, t));
      });
    return () => {
      current = false;
    };
  }, [props.sequence, props.operation, props.mirror, gales, period, scope, chosenPairs, money.money, money.galeType, money.sobra, t]);

  const rows = report ? reportRows(report, t("backtest.total")) : [];
  const levels = gales + 1;
  const when = (epoch: number | null | undefined) =>
    typeof epoch === "number" ? formatDateTime(epoch, language, marketTz).slice(0, -3) : "—";

  return (
    <div className="backtest" data-testid="backtest">
      <IonSegment value={String(gales)} onIonChange={(e) => setGales(Number(e.detail.value))}>
        {GALE_CHOICES.map((g) => (
          <IonSegmentButton key={g} value={String(g)}>
            {g === 1 ? t("backtest.oneGale") : t("backtest.gales", { n: g })}
          </IonSegmentButton>
        ))}
      </IonSegment>
      <label className="bt-period">
        {t("backtest.period")}
        <select name="backtest-period" value={period} onChange={(e) => setPeriod(e.target.value as PeriodKey)}>
          {PERIODS.map((p) => (
            <option key={p.key} value={p.key}>
              {t(`backtest.period.${p.key}` as "backtest.period.stored")}
            </option>
          ))}
        </select>
      </label>
      {chosenPairs && (
        <label className="bt-period">
          {t("backtest.pairs")}
          <select name="backtest-pairs" value={scope} onChange={(e) => setScope(e.target.value as "mine" | "all")}>
            <option value="mine">{t("backtest.myPairs", { pairs: chosenPairs.split(",").join(", ") })}</option>
            <option value="all">{t("pairs.all")}</option>
          </select>
        </label>
      )}
      {error && (
        <p role="alert" className="loss">
          {error}
        </p>
      )}
      {!report && !error && <Loading label={t("backtest.running")} />}
      {report && (
        <>
          <p className="signals-count" data-testid="backtest-signals">
            {t("backtest.signals", { n: report.total.signals.toLocaleString(language) })}
          </p>
          <p className="bt-context" data-testid="backtest-period">
            {t("backtest.dates", { from: when(report.period?.from), to: when(report.period?.to) })} ·{" "}
            {t("backtest.moneyUsed", {
              stake: formatMoney(report.money?.stake ?? money.money, language),
              type: report.money?.galeType ?? money.galeType,
              gales,
            })}
          </p>
          <div className="bt-cards" data-testid="backtest-cards">
            {rows.map((r, i) => (
              <ResultCard key={r.label} row={r} levels={levels} total={i === 0} />
            ))}
          </div>
          <IonNote>{t("backtest.moneyNote")}</IonNote>
        </>
      )}
    </div>
  );
}
