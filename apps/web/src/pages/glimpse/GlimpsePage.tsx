import {
  IonBadge,
  IonButton,
  IonButtons,
  IonContent,
  IonHeader,
  IonIcon,
  IonItem,
  IonLabel,
  IonList,
  IonMenuButton,
  IonPopover,
  IonSpinner,
  IonTitle,
  IonToolbar,
} from "@ionic/react";
import {
  cashOutline,
  gridOutline,
  lockClosedOutline,
  notificationsOutline,
  optionsOutline,
  speedometerOutline,
  swapHorizontalOutline,
  walletOutline,
} from "ionicons/icons";
import { useCallback, useEffect, useRef, useState } from "react";
import { useHistory } from "react-router-dom";
import { ApiError, api, type Account, type Alert } from "../../api";
import { useI18n } from "../../i18n/I18nProvider";
import { formatMoney, formatPayout, formatSignedMoney, pairsSummary, resultClass, shortName } from "../../lib/format";
import { zoneTime } from "../../lib/chart";
import { buttonState, canConfigure, startProblem } from "../../lib/operating";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useToast } from "../../session/useToast";
import GlimpseNotice from "../../components/GlimpseNotice";
import { GLIMPSE_MM } from "../../lib/gale";
import { glimpseStrategy, useStrategies } from "../../session/useStrategies";
import { summarizeLastSession, type SessionSummary } from "../../lib/sessionSummary";
import AlertBanners from "./AlertBanners";
import SessionSummaryCard from "./SessionSummaryCard";
import ModeSheet from "./ModeSheet";
import LiveChart from "./LiveChart";
import OperatingCard from "./OperatingCard";
import { useStatusPoll } from "./useStatusPoll";
import WaitingCard from "./WaitingCard";

function Block(props: { icon: string; title: string; value: string; locked: boolean; onOpen: () => void; id: string }) {
  return (
    <button
      type="button"
      className={`block${props.locked ? " locked" : ""}`}
      disabled={props.locked}
      onClick={props.onOpen}
      data-testid={`block-${props.id}`}
    >
      <IonIcon aria-hidden="true" icon={props.locked ? lockClosedOutline : props.icon} />
      <span className="block-title">{props.title}</span>
      <span className="block-value">{props.value}</span>
    </button>
  );
}

function modeLabel(account: Account, t: ReturnType<typeof useI18n>["t"]): string {
  if (account.mode === "signals") return t("mode.signals");
  if (account.mode === "copy") return t("mode.copy");
  return `${t("mode.strategy")}: ${account.strategy || "-"}`;
}

export default function GlimpsePage() {
  const { t, language } = useI18n();
  const history = useHistory();
  const toast = useToast();
  const { account, openPairs, serverTime, patch, marketTz } = useAccount();
  const [pairsEvent, setPairsEvent] = useState<Event | undefined>();
  const [modeOpen, setModeOpen] = useState(false);
  const [sending, setSending] = useState(false);
  const [offline, setOffline] = useState(false);
  const [banners, setBanners] = useState<Alert[]>([]);
  const bannered = useRef(new Set<string>());

  const onPollError = useCallback((e: unknown) => setOffline(e instanceof ApiError && e.status !== 401), []);
  const markShown = useStatusPoll(onPollError);
  const strategies = useStrategies();
  const [ended, setEnded] = useState<{ summary: SessionSummary; reason: string } | null>(null);
  const previousStatus = useRef(account?.glimpseStatus);

  // A session that ends while the dashboard is open: sum it up from the ledger, once.
  useEffect(() => {
    const status = account?.glimpseStatus;
    const before = previousStatus.current;
    previousStatus.current = status;
    if (status !== "off" || !before || before === "off") return;
    // Why it stopped: the bot's newest alert (stop win, stop loss, the trader's Stop...).
    const newest = [...(account?.alerts ?? [])].sort((a, b) => Number(b.time) - Number(a.time))[0];
    const reason = newest ? newest.description || newest.title : "";
    api
      .getUserTrades({}, 200)
      .then((page) => {
        const summary = summarizeLastSession(page.items);
        if (summary) setEnded({ summary, reason });
      })
      .catch(() => undefined);
  }, [account?.glimpseStatus, account?.alerts]);

  useEffect(() => {
    if (account) setOffline(false);
  }, [account]);

  // New alerts: a banner each, and their "shown" flag goes with the next tick.
  useEffect(() => {
    const fresh = (account?.alerts ?? []).filter((a) => a && !a.shown && !bannered.current.has(a.time));
    if (!fresh.length) return;
    fresh.forEach((a) => bannered.current.add(a.time));
    setBanners((b) => [...b, ...fresh]);
    markShown(fresh.map((a) => a.time));
  }, [account?.alerts, markShown]);

  // The pair on the live chart: the one in flight, kept between cycles so the chart stays put.
  const activePair = account?.operating?.active || "";
  const [chartPair, setChartPair] = useState("");
  useEffect(() => {
    if (activePair) setChartPair(activePair);
  }, [activePair]);

  const hideBanner = useCallback((time: string) => setBanners((b) => b.filter((a) => a.time !== time)), []);

  if (!account) return null;
  const status = account.glimpseStatus;
  const locked = !canConfigure(status);
  const state = buttonState(status);
  const unread = (account.alerts ?? []).filter((a) => a && !a.read).length;
  const periodResult = (account.iqPeriodProfit ?? 0) - (account.iqPeriodLoss ?? 0);
  const glimpse = glimpseStrategy(account, strategies);
  // What the bot will really trade: Glimpse's strategies bring their own money management.
  const settings = glimpse ? { ...account.strategySettings, ...GLIMPSE_MM } : account.strategySettings;

  async function setStatus(next: "waiting" | "stopping") {
    setSending(true);
    try {
      await api.set("glimpseStatus", next);
      patch({ glimpseStatus: next });
    } catch (e) {
      toast(describeError(e, t), "danger");
    } finally {
      setSending(false);
    }
  }

  function start() {
    const problem = startProblem(account!);
    if (problem === "noStrategy") return toast(t("glimpse.needStrategy"), "danger");
    if (problem === "noBroker") return toast(t("glimpse.needBroker"), "danger");
    void setStatus("waiting");
  }

  async function chooseMode(mode: "strategy" | "signals") {
    try {
      await api.set("mode", mode);
      patch({ mode });
    } catch (e) {
      toast(describeError(e, t), "danger");
    }
  }

  const open = (section: string) => history.push(`/home/${section}`);
  const statusText: Record<string, string> = {
    waiting: t("status.waiting"),
    assigning: t("status.assigning"),
    stopping: t("status.stopping"),
  };

  return (
    <>
      <IonHeader>
        <IonToolbar color="primary">
          <IonButtons slot="start">
            <IonMenuButton />
          </IonButtons>
          <IonTitle>Glimpse</IonTitle>
          <IonButtons slot="end">
            <IonButton
              aria-label={`${t("glimpse.openPairs")}: ${openPairs.length}`}
              data-testid="open-pairs"
              onClick={(e) => setPairsEvent(e.nativeEvent)}
            >
              <IonIcon aria-hidden="true" icon={swapHorizontalOutline} />
              <IonBadge color="light">{openPairs.length}</IonBadge>
            </IonButton>
            <IonButton aria-label={unread > 0 ? `${t("menu.alerts")}: ${unread}` : t("menu.alerts")} data-testid="alerts-bell" onClick={() => open("alerts")}>
              <IonIcon aria-hidden="true" icon={notificationsOutline} />
              {unread > 0 && <IonBadge color="danger">{unread}</IonBadge>}
            </IonButton>
          </IonButtons>
        </IonToolbar>
      </IonHeader>
      <IonContent className="ion-padding dashboard">
        <AlertBanners alerts={banners} onDone={hideBanner} />
        <IonPopover isOpen={!!pairsEvent} event={pairsEvent} onDidDismiss={() => setPairsEvent(undefined)}>
          <IonList data-testid="pairs-popover">
            {openPairs.length === 0 && (
              <IonItem>
                <IonLabel>{t("glimpse.noOpenPairs")}</IonLabel>
              </IonItem>
            )}
            {openPairs.map((p) => (
              <IonItem key={p.ativo}>
                <IonLabel>{p.ativo}</IonLabel>
                <span slot="end">{p.payout}%</span>
              </IonItem>
            ))}
          </IonList>
        </IonPopover>

        {offline && <p className="offline" role="alert">{t("error.network")}</p>}

        <section className="resume">
          <p className="name" data-testid="user-name">{shortName(account.name)}</p>
          {account.iqPeriodLoss !== 0 && (
            <p className="equation">
              ( {formatMoney(account.iqPeriodProfit, language)} - {formatMoney(account.iqPeriodLoss, language)} )
            </p>
          )}
          <p className={`period ${resultClass(periodResult)}`} data-testid="period-result">
            {formatMoney(periodResult, language)}
          </p>
          {account.iqConnected && (
            // The broker's own figure, read when a session starts and after its cycles settle, and when.
            <p className="balance" data-testid="balance">
              {t(account.iqAccountType === "real" ? "broker.real" : "broker.practice")}:{" "}
              <strong>
                {formatMoney(account.iqAccountType === "real" ? account.iqBalanceReal : account.iqBalancePractice, language)}
              </strong>
              {typeof account.iqBalanceAt === "number" && account.iqBalanceAt > 0 && (
                <small className="balance-at" data-testid="balance-at">
                  {" "}
                  ({t("glimpse.balanceAt", { time: zoneTime(account.iqBalanceAt, marketTz, language) })})
                </small>
              )}
            </p>
          )}
          <p className="session">
            {t("glimpse.sessionProfit")}:{" "}
            <strong data-testid="session-profit">{formatSignedMoney(account.iqSessionProfit, language)}</strong>
          </p>
        </section>

        <section className="blocks">
          <Block
            id="broker"
            icon={walletOutline}
            title={t("block.broker")}
            value={account.iqConnected ? t("broker.connected") : t("broker.disconnected")}
            locked={locked}
            onOpen={() => open("broker")}
          />
          <Block
            id="payout"
            icon={speedometerOutline}
            title={t("block.payout")}
            value={formatPayout(account.preferedPayout)}
            locked={locked}
            onOpen={() => open("payout")}
          />
          <Block
            id="order-options"
            icon={cashOutline}
            title={t("block.orderOptions")}
            value={`${formatMoney(settings?.money, language)}${settings?.gale ? ` · G${settings.galeCount}` : ""}`}
            locked={locked}
            onOpen={() => open("order-options")}
          />
          <Block
            id="pairs"
            icon={gridOutline}
            title={t("block.pairs")}
            value={pairsSummary(account.preferedActives, t("pairs.all"))}
            locked={locked}
            onOpen={() => open("pairs")}
          />
          <Block
            id="mode"
            icon={optionsOutline}
            title={t("block.mode")}
            value={modeLabel(account, t)}
            locked={locked}
            onOpen={() => setModeOpen(true)}
          />
          <Block
            id="alerts"
            icon={notificationsOutline}
            title={t("block.alerts")}
            value={unread ? t("alerts.unread", { n: unread }) : t("alerts.none")}
            locked={false}
            onOpen={() => open("alerts")}
          />
        </section>

        {glimpse && <GlimpseNotice strategy={glimpse.name} />}
        {ended && status === "off" && (
          <SessionSummaryCard summary={ended.summary} reason={ended.reason} onClose={() => setEnded(null)} />
        )}

        <section className="centre">
          {status === "operating" && account.operating?.operating ? (
            <OperatingCard operating={account.operating} now={serverTime} />
          ) : (
            <WaitingCard slides={account.settings?.glimpse?.slides ?? true} />
          )}
        </section>
        {status === "operating" && chartPair && (
          <section className="live">
            <LiveChart pair={chartPair} tries={account.operating?.tries ?? []} />
          </section>
        )}

        <section className="start-stop">
          <p className="status" data-testid="glimpse-status" data-status={status}>
            {t(`status.label`)}: <strong>{t(`status.${status}` as "status.off")}</strong>
          </p>
          {state === "start" && (
            <IonButton expand="block" size="large" onClick={start} disabled={sending} data-testid="start">
              {sending ? <IonSpinner name="dots" /> : t("glimpse.start")}
            </IonButton>
          )}
          {state === "stop" && (
            <IonButton
              expand="block"
              size="large"
              color="danger"
              onClick={() => void setStatus("stopping")}
              disabled={sending}
              data-testid="stop"
            >
              {sending ? <IonSpinner name="dots" /> : t("glimpse.stop")}
            </IonButton>
          )}
          {(state === "busy" || state === "busy-stop") && (
            <div className="busy">
              <IonSpinner name="crescent" />
              <span>{statusText[status]}</span>
              {state === "busy-stop" && (
                <IonButton
                  fill="outline"
                  color="danger"
                  onClick={() => void setStatus("stopping")}
                  disabled={sending}
                  data-testid="stop"
                >
                  {t("glimpse.stop")}
                </IonButton>
              )}
            </div>
          )}
        </section>
      </IonContent>
      <ModeSheet
        open={modeOpen}
        account={account}
        onChoose={(mode) => void chooseMode(mode)}
        onClose={() => setModeOpen(false)}
      />
    </>
  );
}
