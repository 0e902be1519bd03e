// The Catalogador for managers: the trader app's page (POST /glimpse/catalog, rules shared in
// apps/shared/src/catalog.ts), where a row is published as a Glimpse strategy.
import { useState } from "react";
import {
  GALE_CHOICES,
  LENGTH_CHOICES,
  MAX_NAME,
  PERIOD_DAYS,
  against,
  formatP,
  saveBody,
  savable,
  type CatalogFigures,
  type CatalogReport,
  type CatalogRow,
} from "../../../shared/src/catalog";
import { formatPercent, formatSignedMoney } from "../../../shared/src/format";
import { api } from "../api";
import Frame, { AdminButton } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import { useSession } from "../session";

const SIDE = { above: "win", below: "loss", none: "" } as const;

function Rate({ f, breakEven }: { f: CatalogFigures; breakEven: number }) {
  const { language } = useI18n();
  const pct = (v: number | null | undefined) => formatPercent(v, language, 1);
  return (
    <span>
      <strong className={SIDE[against(f.hit_rate, breakEven)]}>{pct(f.hit_rate)}</strong>{" "}
      <small className="hint">{f.wilson ? `[${pct(f.wilson[0])}–${pct(f.wilson[1])}]` : "–"} n={f.cycles}</small>
    </span>
  );
}

function NumberSelect(props: { label: string; value: number; choices: readonly number[]; onChange: (value: number) => void; testid?: string }) {
  const { label, value, choices, onChange, testid } = props;
  return (
    <label>
      {label}{" "}
      <select data-testid={testid} value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {choices.map((n) => <option key={n} value={n}>{n}</option>)}
      </select>
    </label>
  );
}

export default function CatalogPage() {
  const { t, language } = useI18n();
  const { act, isAdmin } = useSession();
  const [pairs, setPairs] = useState("");
  const [days, setDays] = useState(3);
  const [gales, setGales] = useState(1);
  const [maxLength, setMaxLength] = useState(5);
  const [minSignals, setMinSignals] = useState(20);
  const [report, setReport] = useState<CatalogReport | null>(null);
  const [running, setRunning] = useState(false);
  const [names, setNames] = useState<Record<number, string>>({});

  const run = async () => {
    setRunning(true);
    setReport(null);
    const chosen = pairs.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);
    const answer = await act(() =>
      api.runCatalog({ ...(chosen.length ? { pairs: chosen } : {}), days, gales, maxLength, minSignals }),
    );
    setRunning(false);
    if (answer) setReport(answer);
  };

  const publish = async (row: CatalogRow) => {
    const name = (names[row.rank] ?? `Glimpse ${row.label}`).slice(0, MAX_NAME);
    await act(() => api.saveStrategy(saveBody(row.strategy, name)), t("catalog.published", { name }));
  };

  return (
    <Frame title={t("menu.catalog")}>
      <section className="card">
        <p className="hint">{t("catalog.intro")}</p>
        <div className="action column">
          <input data-testid="catalog-pairs" value={pairs} onChange={(e) => setPairs(e.target.value)} placeholder={t("catalog.pairsHint")} />
          <NumberSelect label={t("catalog.days")} value={days} choices={PERIOD_DAYS} onChange={setDays} testid="catalog-days" />
          <NumberSelect label={t("catalog.gales")} value={gales} choices={GALE_CHOICES} onChange={setGales} />
          <NumberSelect label={t("catalog.maxLength")} value={maxLength} choices={LENGTH_CHOICES} onChange={setMaxLength} />
          <label>
            {t("catalog.minSignals")}{" "}
            <input type="number" min={1} value={minSignals} onChange={(e) => setMinSignals(Math.max(1, Math.floor(Number(e.target.value) || 1)))} />
          </label>
          <button type="button" onClick={() => void run()} disabled={running} data-testid="catalog-run">
            {running ? t("catalog.running") : t("catalog.run")}
          </button>
        </div>
      </section>
      {report && (
        <section data-testid="catalog-report">
          <p className="card" data-testid="catalog-verdict" role="status">
            <strong>{report.flagged === 0 ? t("catalog.nothing") : t("catalog.found", { n: report.flagged, tests: report.tests })}</strong>
            <br />
            <small className="hint">
              {t("catalog.context", { candidates: report.candidates, tests: report.tests, payout: report.payout, split: Math.round(report.split * 100) })}
            </small>
          </p>
          <div style={{ overflowX: "auto" }}>
            <table className="list" data-testid="catalog-table">
              <thead>
                <tr>
                  <th>#</th><th>{t("catalog.strategy")}</th><th>{t("catalog.gales")}</th><th>{t("catalog.inSample")}</th>
                  <th>{t("catalog.outOfSample")}</th><th>{t("catalog.breakEven")}</th><th>{t("catalog.expected")}</th>
                  <th>p (q)</th><th>{t("catalog.verdict")}</th><th />
                </tr>
              </thead>
              <tbody>
                {report.ranked.map((row) => (
                  <tr key={row.rank} data-testid="catalog-row" data-flagged={row.flagged}>
                    <td>{row.rank}</td>
                    <td className="mono">{row.label}</td>
                    <td>{row.gales}</td>
                    <td><Rate f={row.in_sample} breakEven={row.break_even} /></td>
                    <td><Rate f={row.out_of_sample} breakEven={row.break_even} /></td>
                    <td>{formatPercent(row.break_even, language, 1)}</td>
                    <td>
                      {row.in_sample.expected_net === null ? "–" : formatSignedMoney(row.in_sample.expected_net, language)} /{" "}
                      {row.out_of_sample.expected_net === null ? "–" : formatSignedMoney(row.out_of_sample.expected_net, language)}
                    </td>
                    <td>{formatP(row.in_sample.p_value)} ({formatP(row.in_sample.q_value)})</td>
                    <td>{row.flagged ? t("catalog.beatChance") : row.significant_in_sample ? t("catalog.notReplicated") : t("catalog.chance")}</td>
                    <td>
                      {savable(row.strategy) ? (
                        <span className="row-actions">
                          <input
                            aria-label={t("strategies.name")}
                            maxLength={MAX_NAME}
                            value={names[row.rank] ?? `Glimpse ${row.label}`.slice(0, MAX_NAME)}
                            onChange={(e) => setNames({ ...names, [row.rank]: e.target.value })}
                          />
                          <AdminButton isAdmin={isAdmin} testid="catalog-publish" title={t("toast.adminOnly")} label={t("catalog.publish")} onClick={() => void publish(row)} />
                        </span>
                      ) : (
                        <small className="hint">{t("catalog.tooShort")}</small>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </Frame>
  );
}
