import {
  IonButton,
  IonButtons,
  IonContent,
  IonHeader,
  IonIcon,
  IonModal,
  IonNote,
  IonSpinner,
  IonTitle,
  IonToolbar,
  useIonAlert,
} from "@ionic/react";
import { IonTextarea } from "../../components/ionic/later";
import { addOutline, arrowDownOutline, arrowUpOutline, refreshOutline, trashOutline } from "ionicons/icons";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, type Signal } from "../../api";
import Loading from "../../components/Loading";
import PageFrame from "../../components/PageFrame";
import type { MessageKey } from "../../i18n/core";
import { useI18n } from "../../i18n/I18nProvider";
import { useSubmit } from "../../lib/forms";
import { formatMoney, formatSignedMoney } from "../../lib/format";
import type { TradeRow } from "../../lib/trades";
import { clockHHMM, isPast, sortByTime } from "../../lib/signals";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useToast } from "../../session/useToast";
import { previewOf, signalTextApi, type Preview, type ServerRejection } from "./serverParse";
import { outcomesBySignal, tally } from "./tally";

const REFRESH_MS = 5000;

const REASONS: Record<string, MessageKey> = {
  unrecognized: "signals.reason.unrecognized",
  badTime: "signals.reason.badTime",
  unknownPair: "signals.reason.unknownPair",
  expiry: "signals.reason.expiry",
  noPair: "signals.reason.noPair",
  noTime: "signals.reason.noTime",
  noDirection: "signals.reason.noDirection",
  manyPairs: "signals.reason.manyPairs",
  manyTimes: "signals.reason.manyTimes",
  manyDirections: "signals.reason.manyDirections",
  duplicate: "signals.reason.duplicate",
  past: "signals.reason.past",
  otherDay: "signals.reason.otherDay",
};

/** The server's reason in the reader's language (its own pt-BR words for a code this app does not know). */
function reasonText(r: ServerRejection, t: ReturnType<typeof useI18n>["t"]): string {
  const key = REASONS[r.code];
  return key ? t(key, { text: r.detail ?? "", line: r.first_line ?? "" }) : r.reason;
}

/** Type or paste a list; the server's parser shows the lines it cannot use and why. */
function AddListSheet({ open, today, onClose, onSaved }: { open: boolean; today: string; onClose: () => void; onSaved: () => void }) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [result, setResult] = useState<Preview | null>(null);
  const { busy, setBusy, error, setError, run } = useSubmit();

  async function save() {
    await run(async () => {
      // The server reads the text again: expiry and gale go with each signal, and a minute that began meanwhile is left out.
      const answer = await signalTextApi.insert(text);
      if (answer.res !== 1) {
        setResult({ signals: [], rejected: answer.rejected });
        return;
      }
      setText("");
      setResult(null);
      onSaved();
    });
  }

  async function verify() {
    setBusy(true);
    setError("");
    let parsed: Preview;
    try {
      parsed = previewOf(await signalTextApi.parse(text), text, today);
    } catch (e) {
      setError(describeError(e, t));
      return;
    } finally {
      setBusy(false);
    }
    if (!parsed.signals.length && !parsed.rejected.length) return setError(t("signals.emptyText"));
    setResult(parsed);
    if (!parsed.rejected.length) void save();
  }

  async function paste() {
    try {
      setText(await navigator.clipboard.readText());
      setResult(null);
    } catch {
      setError(t("signals.pasteFailed"));
    }
  }

  return (
    <IonModal isOpen={open} onDidDismiss={onClose}>
      <IonHeader>
        <IonToolbar>
          <IonTitle>{t("signals.addTitle")}</IonTitle>
          <IonButtons slot="end">
            <IonButton onClick={onClose}>{t("common.close")}</IonButton>
          </IonButtons>
        </IonToolbar>
      </IonHeader>
      <IonContent className="ion-padding">
        <IonNote>{t("signals.formats")}</IonNote>
        <div className="buttons">
          <IonButton
            fill="clear"
            size="small"
            onClick={() => {
              setText("");
              setResult(null);
            }}
          >
            {t("signals.clearText")}
          </IonButton>
          <IonButton fill="clear" size="small" onClick={() => void paste()}>
            {t("signals.paste")}
          </IonButton>
        </div>
        <IonTextarea
          fill="outline"
          rows={10}
          name="signal-list"
          placeholder={t("signals.placeholder")}
          value={text}
          onIonInput={(e) => {
            setText(String(e.detail.value ?? ""));
            setResult(null);
          }}
          data-testid="signal-text"
        />
        {result && result.rejected.length > 0 && (
          <div className="rejected" data-testid="rejected-lines" role="alert">
            <p>
              <strong>{t("signals.rejectedCount", { n: result.rejected.length })}</strong>{" "}
              {t("signals.acceptedCount", { n: result.signals.length })}
            </p>
            <ul>
              {result.rejected.map((r) => (
                <li key={r.line} data-code={r.code} data-line={r.line}>
                  <span className="line-no">{t("signals.line", { n: r.line })}</span> <code>{r.text}</code>
                  <br />
                  <span className="reason">{reasonText(r, t)}</span>
                </li>
              ))}
            </ul>
          </div>
        )}
        {error && (
          <IonNote color="danger" role="alert">
            {error}
          </IonNote>
        )}
        <div className="buttons">
          <IonButton fill="clear" onClick={onClose}>
            {t("common.cancel")}
          </IonButton>
          {result && result.rejected.length > 0 && result.signals.length > 0 ? (
            <IonButton onClick={() => void save()} disabled={busy} data-testid="save-valid-signals">
              {busy ? <IonSpinner name="dots" /> : t("signals.saveValid", { n: result.signals.length })}
            </IonButton>
          ) : (
            <IonButton onClick={() => void verify()} disabled={busy || !text.trim()} data-testid="verify-signals">
              {busy ? <IonSpinner name="dots" /> : t("signals.verify")}
            </IonButton>
          )}
        </div>
      </IonContent>
    </IonModal>
  );
}

const STATUS_KEYS: Record<string, MessageKey> = {
  win: "signals.win",
  loss: "signals.loss",
  doji: "signals.doji",
  skipped: "signals.skipped",
  failed: "signals.failed",
};

/** The signal's own expiry and gale cap, as the list named them ("M5 G1"); "" when it named none. */
function hints(s: Signal & { expiry?: number | null; gale?: number | null }): string {
  return [s.expiry ? `M${s.expiry}` : "", typeof s.gale === "number" ? `G${s.gale}` : ""].filter(Boolean).join(" ");
}

/** A row's status in the reader's language (a result, skipped, canceled); never a raw key. */
function statusText(s: Signal, t: ReturnType<typeof useI18n>["t"]): string {
  if (s.status === "canceled") return t("signals.canceledStatus");
  const key = STATUS_KEYS[s.resultado as string];
  return key ? t(key) : (s.resultado as string);
}

/** The signal list: refreshed while open, with results in colour; cancel or re-activate one row at a time. */
export default function SignalsPage() {
  const { t, language } = useI18n();
  const toast = useToast();
  const [presentAlert] = useIonAlert();
  const { serverTime, marketTz, refresh } = useAccount();
  const [signals, setSignals] = useState<Signal[] | null>(null);
  const [trades, setTrades] = useState<TradeRow[]>([]);
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    try {
      const [docs] = await Promise.all([api.getSignals(), refresh()]);
      setSignals(docs[0]?.signals ?? []);
      // Today's signal trades: each result's level, stake and net come from the ledger.
      const today = new Intl.DateTimeFormat("en-CA", { timeZone: marketTz }).format(new Date());
      // Without them the list still shows (levels and amounts wait for the next refresh).
      const page = await api.getUserTrades({ fromDate: today, mode: "signals" }, 500).catch(() => null);
      if (page) setTrades(page.items);
      setError("");
    } catch (e) {
      setError(describeError(e, t));
    }
  }, [refresh, t, marketTz]);

  useEffect(() => {
    void load();
    const timer = window.setInterval(() => {
      if (!document.hidden) void load();
    }, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  const now = serverTime ? clockHHMM(serverTime, marketTz) : "00:00";
  // The market's day (its clock may run fast in a demo bundle): a list for another day is refused.
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: marketTz }).format(
    serverTime ? new Date(serverTime * 1000) : new Date(),
  );
  const rows = useMemo(() => sortByTime(signals ?? []), [signals]);
  const outcomes = useMemo(() => outcomesBySignal(signals ?? [], trades, marketTz), [signals, trades, marketTz]);
  const score = useMemo(() => tally(signals ?? [], outcomes), [signals, outcomes]);

  async function setStatus(signal: Signal, status: "active" | "canceled") {
    try {
      const answer = await api.updateSignal(signal.id, status);
      if (answer.res !== 1) toast(t("signals.notChangeable"), "danger");
      await load();
    } catch (e) {
      toast(describeError(e, t), "danger");
    }
  }

  function startAdding() {
    if (!signals?.length) return setAdding(true);
    void presentAlert({
      header: t("signals.replaceTitle"),
      message: t("signals.replace"),
      buttons: [
        { text: t("common.cancel"), role: "cancel" },
        { text: t("common.continue"), handler: () => setAdding(true) },
      ],
    });
  }

  function clearAll() {
    void presentAlert({
      header: t("signals.clearTitle"),
      message: t("signals.clearSure"),
      buttons: [
        { text: t("common.cancel"), role: "cancel" },
        {
          text: t("signals.clearAll"),
          role: "destructive",
          handler: () => {
            api
              .insertSignals([])
              .then(load)
              .catch((e) => toast(describeError(e, t), "danger"));
          },
        },
      ],
    });
  }

  return (
    <PageFrame
      title={t("signals.title")}
      panel
      actions={
        <>
          <IonButton aria-label={t("signals.clearAll")} disabled={!signals?.length} onClick={clearAll}>
            <IonIcon aria-hidden="true" icon={trashOutline} />
          </IonButton>
          <IonButton aria-label={t("signals.add")} onClick={startAdding} data-testid="add-signals">
            <IonIcon aria-hidden="true" icon={addOutline} />
          </IonButton>
        </>
      }
    >
      <IonNote>{t("signals.timesNote", { tz: marketTz, now })}</IonNote>
      {error && <p role="alert">{error}</p>}
      {signals === null && !error && <Loading />}
      {signals && signals.length === 0 && <p className="empty">{t("signals.empty")}</p>}
      {score.wins + score.losses > 0 && (
        <p className="signal-tally" data-testid="signal-tally">
          <strong>
            {t("signals.tally")}: {score.score}
          </strong>{" "}
          ({score.levels})
        </p>
      )}
      {rows.length > 0 && (
        <table className="data signals" data-testid="signal-table">
          <thead>
            <tr>
              <th>{t("signals.time")}</th>
              <th>{t("signals.pair")}</th>
              <th>{t("signals.direction")}</th>
              <th>{t("signals.result")}</th>
              <th>{t("signals.level")}</th>
              <th>{t("signals.stake")}</th>
              <th>{t("signals.net")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => {
              const past = isPast(s.hora, now);
              const outcome = outcomes.get(s.id);
              const classes = [past ? "outdated" : "", s.status === "canceled" ? "canceled" : ""].join(" ").trim();
              return (
                <tr key={s.id} className={classes} data-status={s.status}>
                  <td>{s.hora}</td>
                  <td>
                    {s.ativo}
                    {hints(s) && <small className="signal-hints"> {hints(s)}</small>}
                  </td>
                  <td className={`direction ${s.operacao}`}>
                    <IonIcon aria-hidden="true" icon={s.operacao === "call" ? arrowUpOutline : arrowDownOutline} /> {s.operacao.toUpperCase()}
                  </td>
                  <td className={`result ${s.resultado}`}>{statusText(s, t)}</td>
                  <td>{outcome ? (outcome.level === 0 ? "SG" : `G${outcome.level}`) : ""}</td>
                  <td>{outcome ? formatMoney(outcome.stake, language) : ""}</td>
                  <td className={outcome ? (outcome.net > 0 ? "net win" : outcome.net < 0 ? "net loss" : "net") : ""}>
                    {outcome ? formatSignedMoney(outcome.net, language) : ""}
                  </td>
                  <td>
                    {s.status === "active" && !past && (
                      <IonButton fill="clear" size="small" aria-label={t("signals.cancel")} onClick={() => void setStatus(s, "canceled")}>
                        <IonIcon aria-hidden="true" icon={trashOutline} />
                      </IonButton>
                    )}
                    {s.status === "canceled" && (
                      <IonButton fill="clear" size="small" aria-label={t("signals.reactivate")} onClick={() => void setStatus(s, "active")}>
                        <IonIcon aria-hidden="true" icon={refreshOutline} />
                      </IonButton>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <AddListSheet
        open={adding}
        today={today}
        onClose={() => setAdding(false)}
        onSaved={() => {
          setAdding(false);
          toast(t("signals.saved"), "success");
          void load();
        }}
      />
    </PageFrame>
  );
}
