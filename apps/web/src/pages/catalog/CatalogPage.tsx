import { IonButton, IonItem, IonNote, IonSpinner } from "@ionic/react";
import { IonSegment, IonSegmentButton } from "../../components/ionic/later";
import { useEffect, useRef, useState } from "react";
import { api, type Pair } from "../../api";
import Loading from "../../components/Loading";
import PageFrame from "../../components/PageFrame";
import { useI18n } from "../../i18n/I18nProvider";
import { formatDateTime, formatPercent, formatSignedMoney } from "../../lib/format";
import { BusyButton, FormError, StackedField, useSubmit } from "../../lib/forms";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useToast } from "../../session/useToast";
import {
  GALE_CHOICES,
  LENGTH_CHOICES,
  MAX_NAME,
  PERIOD_DAYS,
  against,
  formatP,
  heat,
  saveBody,
  savable,
  suggestedName,
} from "../../../../shared/src/catalog";
import { runCatalog, saveStrategy, type CatalogFigures, type CatalogReport, type CatalogRow } from "./catalogApi";
import "./catalog.css";

const HEAT_ROWS = 10;

function Rate({ figures, breakEven }: { figures: CatalogFigures; breakEven: number }) {
  const { language } = useI18n();
  const pct = (f: number | null | undefined) => formatPercent(f, language, 1);
  return (
    <span className={`cat-rate ${against(figures.hit_rate, breakEven)}`}>
      <strong>{pct(figures.hit_rate)}</strong>{" "}
      <small>
        {figures.wilson ? `[${pct(figures.wilson[0])}–${pct(figures.wilson[1])}]` : "–"} · n={figures.cycles}
      </small>
    </span>
  );
}

/** One row's save form: a name (suggested from the row), then createStrategy. */
function SaveRow({ row, onSaved }: { row: CatalogRow; onSaved: (name: string) => void }) {
  const { t } = useI18n();
  const [name, setName] = useState(suggestedName(row));
  const { busy, error, setError, run } = useSubmit();
  async function save() {
    if (name.trim().length < 3) return setError(t("strategy.nameShort"));
    await run(async () => {
      const answer = await saveStrategy(saveBody(row.strategy, name));
      if (answer.res === 1) onSaved(name.trim());
      else setError(t("strategy.nameTaken"));
    });
  }
  return (
    <div className="cat-save" data-testid="catalog-save-form">
      <IonItem lines="none">
        <StackedField
          label={t("strategy.name")}
          name="catalog-strategy-name"
          maxlength={MAX_NAME}
          value={name}
          onText={setName}
        />
      </IonItem>
      <BusyButton type="button" size="small" onClick={() => void save()} busy={busy} data-testid="catalog-save-confirm">
        {t("common.save")}
      </BusyButton>
      <FormError error={error} />
    </div>
  );
}

function RankedTable({ report, onSaved }: { report: CatalogReport; onSaved: (name: string) => void }) {
  const { t, language } = useI18n();
  const [saving, setSaving] = useState<number | null>(null);
  const pct = (f: number | null | undefined) => formatPercent(f, language, 1);
  const net = (v: number | null) => (v === null ? "–" : formatSignedMoney(v, language));
  return (
    <div className="table-wrap">
      <table className="data catalog-table" data-testid="catalog-table">
        <thead>
          <tr>
            <th>#</th>
            <th>{t("catalog.strategy")}</th>
            <th>{t("catalog.gales")}</th>
            <th>{t("catalog.inSample")}</th>
            <th>{t("catalog.outOfSample")}</th>
            <th>{t("catalog.breakEven")}</th>
            <th>{t("catalog.expected")}</th>
            <th>{t("catalog.pValue")}</th>
            <th>{t("catalog.verdictCol")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {report.ranked.map((row) => (
            <tr key={`${row.rank}`} data-testid="catalog-row" data-flagged={row.flagged} className={row.flagged ? "flagged" : undefined}>
              <td data-label="#">{row.rank}</td>
              <td data-label={t("catalog.strategy")}>
                <strong>{row.label}</strong>
                {row.strategy.kind === "quadrant" && <small className="cat-kind"> {t("catalog.quadrant")}</small>}
              </td>
              <td data-label={t("catalog.gales")}>{row.gales}</td>
              <td data-label={t("catalog.inSample")}>
                <Rate figures={row.in_sample} breakEven={row.break_even} />
              </td>
              <td data-label={t("catalog.outOfSample")}>
                <Rate figures={row.out_of_sample} breakEven={row.break_even} />
              </td>
              <td data-label={t("catalog.breakEven")}>{pct(row.break_even)}</td>
              <td data-label={t("catalog.expected")}>
                <span>
                  {net(row.in_sample.expected_net)} / {net(row.out_of_sample.expected_net)}
                </span>
              </td>
              <td data-label={t("catalog.pValue")}>
                <span>
                  {formatP(row.in_sample.p_value)} <small>(q {formatP(row.in_sample.q_value)})</small>
                </span>
              </td>
              <td data-label={t("catalog.verdictCol")}>
                <span className={`cat-flag ${row.flagged ? "yes" : "no"}`}>
                  {row.flagged ? t("catalog.beatChance") : row.significant_in_sample ? t("catalog.notReplicated") : t("catalog.chance")}
                </span>
              </td>
              <td>
                {savable(row.strategy) ? (
                  <IonButton size="small" fill="outline" data-testid="catalog-save" onClick={() => setSaving(saving === row.rank ? null : row.rank)}>
                    {t("catalog.save")}
                  </IonButton>
                ) : (
                  <small title={t("catalog.tooShort")}>{t("catalog.tooShort")}</small>
                )}
                {saving === row.rank && (
                  <SaveRow
                    row={row}
                    onSaved={(name) => {
                      setSaving(null);
                      onSaved(name);
                    }}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Per pair (columns) and ranked row (lines): the held-out hit rate against break-even, as colour. */
function HeatMap({ report }: { report: CatalogReport }) {
  const { t, language } = useI18n();
  const rows = report.ranked.slice(0, HEAT_ROWS);
  if (!rows.length) return null;
  return (
    <section className="cat-heat" aria-label={t("catalog.heatTitle")}>
      <h3>{t("catalog.heatTitle")}</h3>
      <IonNote>{t("catalog.heatNote")}</IonNote>
      {/* focusable, so a keyboard can scroll the grid sideways */}
      <div className="table-wrap" tabIndex={0} role="region" aria-label={t("catalog.heatTitle")}>
        <table className="cat-heat-grid" data-testid="catalog-heat">
          <thead>
            <tr>
              <th />
              {report.pairs.map((p) => (
                <th key={p} scope="col">
                  {p}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.rank}>
                <th scope="row">
                  {row.rank}. {row.label}
                </th>
                {report.pairs.map((p) => {
                  const rate = row.pairs[p]?.out_of_sample.hit_rate ?? null;
                  return (
                    <td key={p} style={{ background: heat(rate, row.break_even) }} title={`${p}: ${formatPercent(rate, language, 1)}`}>
                      {rate === null ? "–" : formatPercent(rate, language, 0)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** One of a few numbers, as a segment. */
function NumberSegment({
  value,
  choices,
  onChange,
  text = String,
  testid,
}: {
  value: number;
  choices: readonly number[];
  onChange: (value: number) => void;
  text?: (n: number) => string;
  testid?: string;
}) {
  return (
    <IonSegment value={String(value)} onIonChange={(e) => onChange(Number(e.detail.value))} data-testid={testid}>
      {choices.map((n) => (
        <IonSegmentButton key={n} value={String(n)}>
          {text(n)}
        </IonSegmentButton>
      ))}
    </IonSegment>
  );
}

/** The Catalogador: every sequence and the quadrant presets on the chosen pairs and period, ranked honestly. */
export default function CatalogPage() {
  const { t, language } = useI18n();
  const toast = useToast();
  const { account, marketTz, refresh } = useAccount();
  const [pairs, setPairs] = useState<Pair[] | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [days, setDays] = useState<number>(1);
  const [gales, setGales] = useState<number>(Math.min(account?.strategySettings?.gale ? account.strategySettings.galeCount : 1, 3));
  const [maxLength, setMaxLength] = useState<number>(5);
  const [minSignals, setMinSignals] = useState<number>(20);
  const [report, setReport] = useState<CatalogReport | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState("");
  const reportRef = useRef<HTMLElement>(null);

  useEffect(() => {
    api
      .ativos("full")
      .then((list) => setPairs([...list].sort((a, b) => a.ativo.localeCompare(b.ativo))))
      .catch((e) => setError(describeError(e, t)));
  }, [t]);

  // The form fills a phone's screen: bring the verdict into view when it arrives.
  useEffect(() => {
    if (report) reportRef.current?.scrollIntoView({ block: "start" });
  }, [report]);

  const toggle = (name: string) => setChosen((c) => (c.includes(name) ? c.filter((p) => p !== name) : [...c, name]));

  async function run() {
    setRunning(true);
    setError("");
    setReport(null);
    const money = account?.strategySettings;
    try {
      const answer = await runCatalog({
        ...(chosen.length ? { pairs: chosen } : {}),
        days,
        maxLength,
        gales,
        minSignals,
        ...(money ? { stake: Math.max(1, money.money), galeType: money.galeType, sobra: money.galeType === "sobra" ? money.sobra : 0 } : {}),
      });
      setReport(answer);
    } catch (e) {
      setError(describeError(e, t));
    } finally {
      setRunning(false);
    }
  }

  const when = (epoch: number | null | undefined) =>
    typeof epoch === "number" ? formatDateTime(epoch, language, marketTz).slice(0, -3) : "—";

  return (
    <PageFrame title={t("catalog.title")} panel>
      <IonNote>{t("catalog.intro")}</IonNote>
      <h3>{t("catalog.pairs")}</h3>
      {!pairs && !error && <Loading />}
      {pairs && (
        <div className="tiles" data-testid="catalog-pairs">
          <button type="button" className={`tile${chosen.length === 0 ? " selected" : ""}`} aria-pressed={chosen.length === 0} onClick={() => setChosen([])}>
            {t("pairs.all")}
          </button>
          {pairs.map((p) => (
            <button
              type="button"
              key={p.ativo}
              className={`tile${chosen.includes(p.ativo) ? " selected" : ""}`}
              aria-pressed={chosen.includes(p.ativo)}
              onClick={() => toggle(p.ativo)}
            >
              {p.ativo}
            </button>
          ))}
        </div>
      )}
      <h3>{t("catalog.period")}</h3>
      <NumberSegment value={days} choices={PERIOD_DAYS} onChange={setDays} text={(n) => t("catalog.days", { n })} testid="catalog-days" />
      <h3>{t("catalog.gales")}</h3>
      <NumberSegment value={gales} choices={GALE_CHOICES} onChange={setGales} />
      <h3>{t("catalog.maxLength")}</h3>
      <NumberSegment value={maxLength} choices={LENGTH_CHOICES} onChange={setMaxLength} />
      <IonItem lines="none">
        <StackedField
          type="number"
          label={t("catalog.minSignals")}
          name="catalog-min-signals"
          min={1}
          value={minSignals}
          onText={(text) => setMinSignals(Math.max(1, Math.floor(Number(text) || 1)))}
        />
      </IonItem>
      <IonButton expand="block" onClick={() => void run()} disabled={running} data-testid="catalog-run">
        {running ? <IonSpinner name="dots" /> : t("catalog.run")}
      </IonButton>

      {error && (
        <p role="alert" className="loss">
          {error}
        </p>
      )}
      {running && <Loading label={t("catalog.running")} />}
      {report && (
        <section className="catalog-report" data-testid="catalog-report" ref={reportRef}>
          <p className={`cat-verdict ${report.flagged ? "found" : "none"}`} data-testid="catalog-verdict" role="status">
            {report.flagged === 0 ? t("catalog.nothing") : t("catalog.found", { n: report.flagged, tests: report.tests })}
          </p>
          <p className="bt-context" data-testid="catalog-context">
            {t("catalog.context", {
              from: when(report.period.from),
              to: when(report.period.to),
              candidates: report.candidates.toLocaleString(language),
              tests: report.tests.toLocaleString(language),
              payout: report.payout,
              split: Math.round(report.split * 100),
            })}
          </p>
          <IonNote>{t("catalog.howToRead")}</IonNote>
          <RankedTable
            report={report}
            onSaved={(name) => {
              toast(t("catalog.saved", { name }), "success");
              void refresh().catch(() => undefined); // ownedStrategies gained the new one
            }}
          />
          <HeatMap report={report} />
        </section>
      )}
    </PageFrame>
  );
}
