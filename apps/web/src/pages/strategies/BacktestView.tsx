import { IonNote, IonSegment, IonSegmentButton } from "@ionic/react";
import { useEffect, useState } from "react";
import { ApiError, api, type BacktestReport } from "../../api";
import Loading from "../../components/Loading";
import { useI18n } from "../../i18n/I18nProvider";
import { reportRows } from "../../lib/backtest";
import { formatPercent } from "../../lib/format";
import { describeError } from "../../session/errors";

const GALE_CHOICES = [0, 1, 2, 3];

interface Props {
  sequence: string;
  operation: "call" | "put";
  mirror: boolean;
  gales: number;
}

function levelName(level: number, t: ReturnType<typeof useI18n>["t"]): string {
  return level === 0 ? t("glimpse.entry") : t("glimpse.gale", { n: level });
}

/** The strategy on past candles (backtestStrategy): win rate at entry and per gale, loss and dojis, per pair and in total. */
export default function BacktestView(props: Props) {
  const { t, language } = useI18n();
  const [gales, setGales] = useState(Math.min(props.gales, GALE_CHOICES[GALE_CHOICES.length - 1]));
  const [report, setReport] = useState<BacktestReport | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    let current = true;
    setReport(null);
    setError("");
    api
      .backtestStrategy({ sequence: props.sequence, operation: props.operation, mirror: props.mirror, gales })
      .then((r) => current && setReport(r))
      .catch((e) => {
        if (!current) return;
        setError(e instanceof ApiError && e.status === 404 ? t("backtest.unavailable") : describeError(e, t));
      });
    return () => {
      current = false;
    };
  }, [props.sequence, props.operation, props.mirror, gales, t]);

  const rows = report ? reportRows(report, t("backtest.total")) : [];
  const levels = gales + 1;
  const pct = (f: number | null | undefined) => formatPercent(f, language);

  return (
    <div className="backtest" data-testid="backtest">
      <IonSegment value={String(gales)} onIonChange={(e) => setGales(Number(e.detail.value))}>
        {GALE_CHOICES.map((g) => (
          <IonSegmentButton key={g} value={String(g)}>
            {g === 1 ? t("backtest.oneGale") : t("backtest.gales", { n: g })}
          </IonSegmentButton>
        ))}
      </IonSegment>
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
          <div className="bars" aria-hidden="true">
            {rows.map((r) => (
              <div className="bar-row" key={r.label}>
                <span className="bar-label">{r.label}</span>
                <div className="bar">
                  {r.shares.map((share, i) =>
                    share > 0 ? (
                      <span
                        key={i}
                        className={i === levels ? "seg loss" : `seg level-${Math.min(i, 3)}`}
                        style={{ width: `${share * 100}%` }}
                        title={`${i === levels ? t("backtest.loss") : levelName(i, t)}: ${pct(share)}`}
                      >
                        {share >= 0.08 ? pct(share) : ""}
                      </span>
                    ) : null,
                  )}
                </div>
              </div>
            ))}
          </div>
          <div className="legend">
            {Array.from({ length: levels }, (_, i) => (
              <span key={i}>
                <i className={`seg level-${Math.min(i, 3)}`} /> {t("backtest.winAt", { level: levelName(i, t) })}
              </span>
            ))}
            <span>
              <i className="seg loss" /> {t("backtest.loss")}
            </span>
          </div>
          <div className="table-wrap">
            <table className="data" data-testid="backtest-table">
              <thead>
                <tr>
                  <th>{t("backtest.pair")}</th>
                  <th>{t("backtest.signalsCol")}</th>
                  {Array.from({ length: levels }, (_, i) => (
                    <th key={i}>{levelName(i, t)}</th>
                  ))}
                  <th>{t("backtest.winTotal")}</th>
                  <th>{t("backtest.loss")}</th>
                  <th>Doji</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.label}>
                    <td>{r.label}</td>
                    <td>{r.stats.signals}</td>
                    {Array.from({ length: levels }, (_, i) => (
                      <td key={i}>
                        {pct(r.stats.win_rate_at[i])} <small>({r.stats.win_at[i] ?? 0})</small>
                      </td>
                    ))}
                    <td className="win">{pct(r.winRate)}</td>
                    <td className="loss">
                      {pct(r.lossRate)} <small>({r.stats.loss})</small>
                    </td>
                    <td>{r.stats.dojis}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <IonNote>{t("backtest.footnote")}</IonNote>
        </>
      )}
    </div>
  );
}
