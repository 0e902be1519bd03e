// Copy trading: whom the trader copies and how the copies went, the traders they can
// copy (with a stake multiplier or a fixed stake), and their own opt-in to be copied.
// The server (api/routes/copy.py) decides; the bot copies only in copy mode.

import { IonBadge, IonButton, IonItem, IonLabel, IonList, IonListHeader, IonNote, IonSpinner } from "@ionic/react";
import { IonSegment, IonSegmentButton, IonToggle } from "../../components/ionic/later";
import { useCallback, useEffect, useState } from "react";
import { api } from "../../api";
import PageFrame from "../../components/PageFrame";
import type { MessageKey } from "../../i18n/core";
import { useI18n } from "../../i18n/I18nProvider";
import { BusyButton, FormError, StackedField, useSubmit } from "../../lib/forms";
import { formatDateTime, formatMoney, formatSignedMoney, resultClass } from "../../lib/format";
import { canConfigure } from "../../lib/operating";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useToast } from "../../session/useToast";
import {
  FIXED_RANGE,
  MULTIPLIER_RANGE,
  copyApi,
  stakeChoice,
  type CopiedTrade,
  type Copying,
  type Followable,
  type FollowChoice,
} from "./copyApi";

const REFRESH_MS = 5000;

const RESULTS: Record<string, MessageKey> = {
  win: "operating.win",
  loss: "operating.loss",
  doji: "operating.doji",
  failed: "operating.failed",
  not_placed: "copy.notPlaced",
};

function resultText(trade: CopiedTrade, t: (key: MessageKey) => string): string {
  if (trade.status !== "closed") return t("operating.pending");
  const key = trade.result ? RESULTS[trade.result] : undefined;
  return key ? t(key) : (trade.result ?? "");
}

function stakeText(choice: FollowChoice, t: ReturnType<typeof useI18n>["t"], locale: "pt-BR" | "en"): string {
  if (choice.stakeType === "multiplier")
    return t("copy.stakeMultiplier", { x: (choice.multiplier ?? 1).toLocaleString(locale) });
  return t("copy.stakeFixed", { amount: formatMoney(choice.fixedStake ?? 0, locale) });
}

/** The stake form of one leader: a multiplier of the leader's stake, or a fixed stake. */
function FollowForm({ leader, onDone }: { leader: Followable; onDone: () => void }) {
  const { t, language } = useI18n();
  const toast = useToast();
  const [type, setType] = useState<"multiplier" | "fixed">("multiplier");
  const [text, setText] = useState("1");
  const { busy, error, setError, run } = useSubmit();

  async function follow() {
    const choice = stakeChoice(type, text);
    if (!choice.ok) {
      const range = type === "multiplier" ? MULTIPLIER_RANGE : FIXED_RANGE;
      const show = (n: number) => (type === "fixed" ? formatMoney(n, language) : n.toLocaleString(language));
      return setError(t(choice.error, { min: show(range.min), max: show(range.max) }));
    }
    await run(async () => {
      const answer = await copyApi.follow(leader.user, choice.stake);
      if (answer.res === 1) {
        toast(t("copy.followed", { name: leader.name }), "success");
        onDone();
      } else setError(t("copy.notFollowable"));
    });
  }

  return (
    <div className="ion-padding-horizontal ion-padding-bottom" data-testid="follow-form">
      <IonSegment
        value={type}
        onIonChange={(e) => {
          const value = e.detail.value;
          if (value === "multiplier" || value === "fixed") {
            setType(value);
            setText(value === "multiplier" ? "1" : "");
            setError("");
          }
        }}
        data-testid="stake-type"
      >
        <IonSegmentButton value="multiplier">
          <IonLabel>{t("copy.multiplier")}</IonLabel>
        </IonSegmentButton>
        <IonSegmentButton value="fixed">
          <IonLabel>{t("copy.fixed")}</IonLabel>
        </IonSegmentButton>
      </IonSegment>
      <StackedField
        fill="outline"
        label={type === "multiplier" ? t("copy.multiplierLabel") : t("copy.fixedLabel")}
        inputmode="decimal"
        value={text}
        data-testid="stake-value"
        onText={setText}
      />
      <IonNote>{type === "multiplier" ? t("copy.multiplierHint") : t("copy.fixedHint")}</IonNote>
      {error && (
        <p>
          <FormError error={error} />
        </p>
      )}
      <BusyButton type="button" expand="block" busy={busy} onClick={() => void follow()} data-testid="follow-confirm">
        {t("copy.confirm")}
      </BusyButton>
    </div>
  );
}

export default function CopyPage() {
  const { t, language } = useI18n();
  const toast = useToast();
  const { account, marketTz, patch } = useAccount();
  const [copying, setCopying] = useState<Copying | null>(null);
  const [leaders, setLeaders] = useState<Followable[]>([]);
  const [choosing, setChoosing] = useState<string | null>(null);
  const [mine, setMine] = useState<Followable | null>(null);
  const [busy, setBusy] = useState(false);
  const me = account?._id.$oid ?? "";

  const load = useCallback(async () => {
    try {
      const [answer, list] = await Promise.all([copyApi.getCopying(), copyApi.getFollowable()]);
      setCopying(answer);
      setLeaders(list);
      // The list holds approved traders only; a pending opt-in is known from getCopying's `me`.
      const own = list.find((f) => f.user === me);
      const { optedIn, approved } = answer.me;
      setMine(own ?? { user: me, name: "", optedIn, approved, followable: optedIn && approved, since: 0 });
    } catch (e) {
      toast(describeError(e, t), "danger");
    }
  }, [me, t, toast]);

  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  async function run(action: () => Promise<unknown>) {
    setBusy(true);
    try {
      await action();
    } catch (e) {
      toast(describeError(e, t), "danger");
    } finally {
      setBusy(false);
    }
  }

  if (!account || !copying) {
    return (
      <PageFrame title={t("copy.title")} panel>
        <IonSpinner data-testid="copy-loading" />
      </PageFrame>
    );
  }

  const following = copying.following;
  const summary = copying.summary;
  const configurable = canConfigure(account.glimpseStatus);
  const others = leaders.filter((f) => f.user !== me);
  const money = (cents: number) => formatMoney(cents / 100, language);

  return (
    <PageFrame title={t("copy.title")} panel padded={false}>
      <IonList>
        <IonListHeader>
          <IonLabel>{t("copy.following")}</IonLabel>
        </IonListHeader>
        {following ? (
          <>
            <IonItem data-testid="copy-following" data-leader={following.leader}>
              <IonLabel className="ion-text-wrap">
                <h2>{following.leaderName}</h2>
                <p>{stakeText(following, t, language)}</p>
              </IonLabel>
              <IonButton
                slot="end"
                fill="outline"
                color="medium"
                disabled={busy}
                data-testid="copy-unfollow"
                onClick={() =>
                  run(async () => {
                    await copyApi.unfollow();
                    toast(t("copy.unfollowed", { name: following.leaderName }), "success");
                    await load();
                  })
                }
              >
                {t("copy.unfollow")}
              </IonButton>
            </IonItem>
            <IonItem lines="none" data-testid="copy-mode">
              {account.mode === "copy" ? (
                <IonNote className="ion-text-wrap">{t("copy.modeOn", { name: following.leaderName })}</IonNote>
              ) : (
                <>
                  <IonNote className="ion-text-wrap">
                    {t(configurable ? "copy.modeOff" : "copy.modeLocked", { name: following.leaderName })}
                  </IonNote>
                  {configurable && (
                    <IonButton
                      slot="end"
                      disabled={busy}
                      data-testid="copy-use-mode"
                      onClick={() =>
                        run(async () => {
                          await api.set("mode", "copy");
                          patch({ mode: "copy" });
                        })
                      }
                    >
                      {t("copy.useMode")}
                    </IonButton>
                  )}
                </>
              )}
            </IonItem>
          </>
        ) : (
          <IonItem lines="none">
            <IonNote className="ion-text-wrap" data-testid="copy-nobody">
              {t("copy.nobody")}
            </IonNote>
          </IonItem>
        )}

        <IonListHeader>
          <IonLabel>{t("copy.trades")}</IonLabel>
        </IonListHeader>
        <IonItem lines="full" data-testid="copy-summary">
          <IonLabel className="ion-text-wrap">
            <p>
              {t("copy.counts", {
                n: summary.trades,
                c: summary.cycles,
                w: summary.wins,
                l: summary.losses,
                d: summary.dojis,
              })}
              {summary.open > 0 && ` · ${t("copy.open", { n: summary.open })}`}
            </p>
            <h2 className={resultClass(summary.net)}>
              {t("summary.net")}: {formatSignedMoney(summary.net / 100, language)}
            </h2>
          </IonLabel>
        </IonItem>
        {copying.trades.length === 0 && (
          <IonItem lines="none">
            <IonNote>{t("copy.noTrades")}</IonNote>
          </IonItem>
        )}
        {copying.trades.map((trade) => (
          <IonItem
            key={trade.id.$oid}
            data-testid="copied-trade"
            data-trade={trade.id.$oid}
            data-copies={trade.copies}
            data-status={trade.status}
          >
            <IonLabel className="ion-text-wrap">
              <h3>
                {trade.ativo} · {trade.operacao.toUpperCase()} ·{" "}
                {trade.galeLevel === 0 ? t("copy.entry") : t("copy.gale", { n: trade.galeLevel })}
              </h3>
              <p>
                {formatDateTime(trade.placedAt ?? trade.decidedAt, language, marketTz)} · {money(trade.amount)}
              </p>
              <p data-testid="copied-from">{t("copy.ofLeader", { id: trade.copies.slice(-6) })}</p>
            </IonLabel>
            <IonBadge
              slot="end"
              color={trade.result === "win" ? "success" : trade.result === "loss" ? "danger" : "medium"}
              data-testid="copied-result"
            >
              {resultText(trade, t)}
              {trade.profit !== null && trade.status === "closed" && ` ${formatSignedMoney(trade.profit / 100, language)}`}
            </IonBadge>
          </IonItem>
        ))}

        <IonListHeader>
          <IonLabel>{t("copy.leaders")}</IonLabel>
        </IonListHeader>
        {others.length === 0 && (
          <IonItem lines="none">
            <IonNote data-testid="copy-no-leaders">{t("copy.noLeaders")}</IonNote>
          </IonItem>
        )}
        {others.map((leader) => {
          const current = following?.leader === leader.user;
          return (
            <div key={leader.user} data-testid="copy-leader" data-leader={leader.user}>
              <IonItem lines={choosing === leader.user ? "none" : "full"}>
                <IonLabel className="ion-text-wrap">
                  <h2>{leader.name}</h2>
                  <p>{t("copy.followers", { n: leader.followers ?? 0 })}</p>
                </IonLabel>
                {current ? (
                  <IonBadge slot="end" color="success">
                    {t("copy.current")}
                  </IonBadge>
                ) : (
                  <IonButton
                    slot="end"
                    fill={choosing === leader.user ? "outline" : "solid"}
                    data-testid="copy-choose"
                    onClick={() => setChoosing(choosing === leader.user ? null : leader.user)}
                  >
                    {choosing === leader.user ? t("common.cancel") : t("copy.copy")}
                  </IonButton>
                )}
              </IonItem>
              {choosing === leader.user && (
                <FollowForm
                  leader={leader}
                  onDone={() => {
                    setChoosing(null);
                    void load();
                  }}
                />
              )}
            </div>
          );
        })}

        <IonListHeader>
          <IonLabel>{t("copy.beLeader")}</IonLabel>
        </IonListHeader>
        <IonItem>
          <IonToggle
            checked={mine?.optedIn ?? false}
            disabled={busy}
            data-testid="copy-opt-in"
            onIonChange={(e) => {
              const on = e.detail.checked;
              void run(async () => setMine(await copyApi.setFollowable(on)));
            }}
          >
            {t("copy.optIn")}
          </IonToggle>
        </IonItem>
        <IonItem lines="none">
          <IonNote className="ion-text-wrap">{t("copy.beLeaderHint")}</IonNote>
        </IonItem>
        {mine?.optedIn && (
          <IonItem lines="none">
            <IonNote data-testid="copy-opt-in-state" className="ion-text-wrap">
              {mine.approved ? t("copy.approved") : t("copy.pending")}
            </IonNote>
          </IonItem>
        )}
      </IonList>
    </PageFrame>
  );
}
