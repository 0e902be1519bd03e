import { IonItem, IonLabel, IonList } from "@ionic/react";
import { useEffect, useMemo, useState } from "react";
import { api } from "../../api";
import Loading from "../../components/Loading";
import PageFrame from "../../components/PageFrame";
import { useI18n } from "../../i18n/I18nProvider";
import { formatDateTime, formatMoney, formatSignedMoney, resultClass } from "../../lib/format";
import { PullToRefresh, useLoaded } from "../../lib/loaded";
import { cumulative, flattenCycles, readNote, type Cycle, type OrderLog } from "../../lib/operations";
import CumulativeChart from "./CumulativeChart";
import CycleChart from "./CycleChart";
import TradesTable from "./TradesTable";
import { useAccount } from "../../session/AccountProvider";

function OrderLine({ order, level }: { order: OrderLog; level: number }) {
  const { t, language } = useI18n();
  if (typeof order.p !== "number") {
    const note = readNote(String(order.p));
    if (note.kind === "other") return <span className="note">{note.text}</span>;
    const amount = note.amount === null ? "" : ` (${formatMoney(note.amount, language)})`;
    return <span className="note">{(note.kind === "stopLoss" ? t("operations.stopLossNote") : t("operations.pairClosedNote")) + amount}</span>;
  }
  return (
    <>
      {level === 0 ? t("glimpse.entry") : t("glimpse.gale", { n: level })}
      {typeof order.a === "number" && <span> @ {order.a}</span>}:{" "}
      <span className={resultClass(order.p)}>{formatSignedMoney(order.p, language)}</span>
    </>
  );
}

function CycleDetails({ cycle }: { cycle: Cycle }) {
  const { t, language } = useI18n();
  return (
    <div className="cycle-details" data-testid="cycle-details">
      <CycleChart cycle={cycle} />
      <dl>
        <dt>{t("operations.strategy")}</dt>
        <dd>{cycle.strategy === null ? t("mode.signals") : cycle.strategy || "-"}</dd>
        <dt>{t("operations.operation")}</dt>
        <dd className={`direction ${cycle.operacao}`}>{cycle.operacao?.toUpperCase()}</dd>
        <dt>{t("operations.value")}</dt>
        <dd>{formatMoney(cycle.money, language)}</dd>
        <dt>{t("operations.expiration")}</dt>
        <dd>{cycle.expiration}m</dd>
        {cycle.accountType && (
          <>
            <dt>{t("operations.account")}</dt>
            <dd>{cycle.accountType}</dd>
          </>
        )}
      </dl>
      <ol className="orders">
        {cycle.orders.map((o, i) => (
          <li key={i}>
            <OrderLine order={o} level={i} />
          </li>
        ))}
      </ol>
    </div>
  );
}

/** The ledger's orders (a filterable, sortable table), then the cycles, newest first, with the period's running result. */
export default function OperationsPage() {
  const { t, language } = useI18n();
  const { marketTz } = useAccount();
  const { data: cycles, error, load } = useLoaded<Cycle[]>(async () => flattenCycles(await api.getUserOperations()));
  const [open, setOpen] = useState<string | null>(null);
  useEffect(() => {
    void load();
    // Refreshes itself while open, like the trades table.
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void load();
    }, 5000);
    return () => clearInterval(timer);
  }, [load]);

  const points = useMemo(() => cumulative(cycles ?? []), [cycles]);
  const total = points.length ? points[points.length - 1].value : 0;

  return (
    <PageFrame
      title={t("operations.title")}
      padded={false}
      fixed={<PullToRefresh onRefresh={load} />}
    >
      <TradesTable />
      <h2 className="ion-padding-horizontal">{t("operations.cyclesTitle")}</h2>
      {error && <p role="alert" className="ion-padding">{error}</p>}
      {cycles === null && !error && <Loading />}
      {cycles && cycles.length === 0 && (
        <p className="ion-padding empty" data-testid="operations-empty">
          {t("operations.empty")}
        </p>
      )}
      {cycles && cycles.length > 0 && (
        <>
          <section className="ion-padding summary">
            <p>
              {t("operations.periodResult")}:{" "}
              <strong className={resultClass(total)} data-testid="operations-total">
                {formatSignedMoney(total, language)}
              </strong>{" "}
              <small>({t("operations.cycles", { n: cycles.length })})</small>
            </p>
            <CumulativeChart points={points} label={t("operations.periodResult")} />
          </section>
          <IonList data-testid="operations-list">
            {cycles.map((c) => (
              <div key={c.key}>
                <IonItem
                  button
                  detail={false}
                  onClick={() => setOpen(open === c.key ? null : c.key)}
                  className="cycle-row"
                  data-cycle={c.cycleId}
                >
                  <IonLabel>
                    <h2>{c.ativo}</h2>
                    <p>{formatDateTime(c.horario, language, marketTz)}</p>
                  </IonLabel>
                  <span slot="end" className={resultClass(c.profit)}>
                    {formatSignedMoney(c.profit, language)}
                  </span>
                </IonItem>
                {open === c.key && <CycleDetails cycle={c} />}
              </div>
            ))}
          </IonList>
        </>
      )}
    </PageFrame>
  );
}
