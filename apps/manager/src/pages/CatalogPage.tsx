// The Catalogador for managers: the trader app's page (POST /glimpse/catalog), where a row is
// published as a Glimpse strategy (createStrategy by a manager signs it "Glimpse").
import { useState } from "react";
import { formatPercent, formatSignedMoney } from "../../../shared/src/format";
import Frame, { AdminButton } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import { useSession } from "../session";
import { createClient } from "../../../shared/src/http";

// The manager's token, under the key api.ts's client keeps it (api.ts has no catalog route yet).
const client = createClient({ base: String(import.meta.env.VITE_API_BASE ?? ""), tokenKey: "glimpse.manager.token" });

interface QuadrantRuleDoc {
  period: number;
  offset: number;
  candles: number[];
  pick: "minority" | "majority";
}
type CatalogStrategy =
  | { kind: "sequence"; sequence: string; operation: "call" | "put"; mirror: boolean }
  | ({ kind: "quadrant"; name: string } & QuadrantRuleDoc);
interface Figures {
  cycles: number;
  hit_rate: number | null;
  wilson: [number, number] | null;
  p_value: number;
  q_value: number | null;
  expected_net: number | null;
}
interface Row {
  rank: number;
  strategy: CatalogStrategy;
  label: string;
  gales: number;
  break_even: number;
  in_sample: Figures;
  out_of_sample: Figures;
  significant_in_sample: boolean;
  flagged: boolean;
  pairs: Record<string, { out_of_sample: { hit_rate: number | null } }>;
}
interface Report {
  pairs: string[];
  candidates: number;
  tests: number;
  payout: number;
  split: number;
  flagged: number;
  ranked: Row[];
}

const MAX_NAME = 20;

/** Whether createStrategy takes the row: quadrant rules, and sequences of 3 to 12 candles. */
function publishable(s: CatalogStrategy): boolean {
  return s.kind === "quadrant" || s.sequence.split(",").length >= 3;
}

function publishBody(s: CatalogStrategy, name: string) {
  const clean = name.split(/\s+/).filter(Boolean).join(" ");
  if (s.kind === "quadrant") return { name: clean, quadrant: { period: s.period, offset: s.offset, candles: s.candles, pick: s.pick } };
  return { name: clean, sequence: s.sequence, operation: s.operation, mirror: s.mirror };
}

function Rate({ f, breakEven }: { f: Figures; breakEven: number }) {
  const { language } = useI18n();
  const pct = (v: number | null | undefined) => formatPercent(v, language, 1);
  const side = f.hit_rate === null ? "" : f.hit_rate > breakEven ? "win" : "loss";
  return (
    <span>
      <strong className={side}>{pct(f.hit_rate)}</strong>{" "}
      <small className="hint">{f.wilson ? `[${pct(f.wilson[0])}–${pct(f.wilson[1])}]` : "–"} n={f.cycles}</small>
    </span>
  );
}

const p = (v: number | null) => (v === null ? "–" : v < 0.001 ? "< 0.001" : v.toFixed(3));

export default function CatalogPage() {
  const { t, language } = useI18n();
  const { act, isAdmin } = useSession();
  const [pairs, setPairs] = useState("");
  const [days, setDays] = useState(3);
  const [gales, setGales] = useState(1);
  const [maxLength, setMaxLength] = useState(5);
  const [minSignals, setMinSignals] = useState(20);
  const [report, setReport] = useState<Report | null>(null);
  const [running, setRunning] = useState(false);
  const [names, setNames] = useState<Record<number, string>>({});

  const run = async () => {
    setRunning(true);
    setReport(null);
    const chosen = pairs.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);
    const answer = await act(() =>
      client.call<Report>("catalog", { ...(chosen.length ? { pairs: chosen } : {}), days, gales, maxLength, minSignals }),
    );
    setRunning(false);
    if (answer) setReport(answer);
  };

  const publish = async (row: Row) => {
    const name = (names[row.rank] ?? `Glimpse ${row.label}`).slice(0, MAX_NAME);
    await act(() => client.call<{ res: 0 | 1 }>("createStrategy", publishBody(row.strategy, name)), t("catalog.published", { name }));
  };

  return (
    <Frame title={t("menu.catalog")}>
      <section className="card">
        <p className="hint">{t("catalog.intro")}</p>
        <div className="action column">
          <input data-testid="catalog-pairs" value={pairs} onChange={(e) => setPairs(e.target.value)} placeholder={t("catalog.pairsHint")} />
          <label>
            {t("catalog.days")}{" "}
            <select data-testid="catalog-days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
              {[1, 3, 7, 30].map((d) => <option key={d} value={d}>{d}</option>)}
            </select>
          </label>
          <label>
            {t("catalog.gales")}{" "}
            <select value={gales} onChange={(e) => setGales(Number(e.target.value))}>
              {[0, 1, 2, 3].map((g) => <option key={g} value={g}>{g}</option>)}
            </select>
          </label>
          <label>
            {t("catalog.maxLength")}{" "}
            <select value={maxLength} onChange={(e) => setMaxLength(Number(e.target.value))}>
              {[3, 5, 7, 9].map((n) => <option key={n} value={n}>{n}</option>)}
            </select>
          </label>
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
                    <td>{p(row.in_sample.p_value)} ({p(row.in_sample.q_value)})</td>
                    <td>{row.flagged ? t("catalog.beatChance") : row.significant_in_sample ? t("catalog.notReplicated") : t("catalog.chance")}</td>
                    <td>
                      {publishable(row.strategy) ? (
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
