import {
  IonButton,
  IonButtons,
  IonContent,
  IonHeader,
  IonIcon,
  IonItem,
  IonList,
  IonModal,
  IonNote,
  IonTitle,
  IonToolbar,
} from "@ionic/react";
import { addOutline, arrowDownOutline, arrowUpOutline, checkmarkCircle, informationCircleOutline } from "ionicons/icons";
import { useCallback, useEffect, useState } from "react";
import { api } from "../../api";
import Loading from "../../components/Loading";
import PageFrame from "../../components/PageFrame";
import { useI18n } from "../../i18n/I18nProvider";
import { newDraft, parseSequence, type StrategyDraft } from "../../lib/candles";
import { shortName } from "../../lib/format";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useToast } from "../../session/useToast";
import { GLIMPSE_AUTHOR, GLIMPSE_MM } from "../../lib/gale";
import BacktestView from "./BacktestView";
import CandleRow from "./CandleRow";
import StrategyEditor from "./StrategyEditor";
import { presetOf, ruleParams, type QuadrantRuleDoc, type StoredStrategy } from "./quadrants";

type Sheet =
  | { kind: "detail"; strategy: StoredStrategy; testing: boolean }
  | { kind: "editor"; draft: StrategyDraft; editing: boolean; quadrant?: QuadrantRuleDoc }
  | null;

/** A quadrant strategy in words: its preset's name and when and how it trades. */
function QuadrantSummary({ rule }: { rule: QuadrantRuleDoc }) {
  const { t } = useI18n();
  const pick = t(rule.pick === "minority" ? "strategy.minority" : "strategy.majority");
  return (
    <div className="detail-quadrant" data-testid="quadrant-summary">
      <p>
        <strong>{presetOf(rule)?.name ?? t("strategy.customQuadrant")}</strong>
      </p>
      <p>{t("strategy.quadrantRule", ruleParams(rule, pick))}</p>
      <IonNote>{t("strategy.quadrantNote")}</IonNote>
    </div>
  );
}

export default function StrategiesPage() {
  const { t } = useI18n();
  const toast = useToast();
  const { account, patch, refresh } = useAccount();
  const [strategies, setStrategies] = useState<StoredStrategy[] | null>(null);
  const [error, setError] = useState("");
  const [sheet, setSheet] = useState<Sheet>(null);

  const load = useCallback(() => {
    api
      .getStrategies()
      .then(setStrategies)
      .catch((e) => setError(describeError(e, t)));
  }, [t]);
  useEffect(load, [load]);

  if (!account) return null;
  const owned = new Set(account.ownedStrategies ?? []);
  const mine = (strategies ?? []).filter((s) => owned.has(s.name)).sort((a, b) => a.name.localeCompare(b.name));
  const me = shortName(account.name);
  const settings = account.strategySettings;
  const gales = settings?.gale ? settings.galeCount : 0;

  async function select(name: string) {
    try {
      await api.set("strategy", name);
      patch({ strategy: name });
    } catch (e) {
      toast(describeError(e, t), "danger");
    }
  }

  function edit(s: StoredStrategy) {
    if (s.quadrant) {
      setSheet({ kind: "editor", editing: true, draft: { ...newDraft(), name: s.name }, quadrant: s.quadrant });
      return;
    }
    const candles = parseSequence(s.sequence);
    if (!candles) return toast(t("strategy.badSequence"), "danger");
    setSheet({ kind: "editor", editing: true, draft: { name: s.name, candles, operation: s.operation, mirror: s.mirror } });
  }

  async function saved() {
    const wasEditing = sheet?.kind === "editor" && sheet.editing;
    setSheet(null);
    toast(wasEditing ? t("strategy.updated") : t("strategy.created"), "success");
    load();
    await refresh().catch(() => undefined); // ownedStrategies gained the new one
  }

  return (
    <PageFrame
      title={t("strategy.title")}
      panel
      padded={false}
      actions={
        <IonButton
          aria-label={t("strategy.create")}
          data-testid="create-strategy"
          onClick={() => setSheet({ kind: "editor", draft: newDraft(), editing: false })}
        >
          <IonIcon aria-hidden="true" icon={addOutline} />
        </IonButton>
      }
    >
      {error && <p role="alert" className="ion-padding">{error}</p>}
      {!strategies && !error && <Loading />}
      {strategies && mine.length === 0 && <p className="ion-padding empty">{t("strategy.none")}</p>}
      <IonList data-testid="strategy-list">
        {mine.map((s) => {
          const chosen = account.strategy === s.name;
          return (
            // Not a button item: the details button inside would be a control nested in a control.
            <IonItem key={s.name} detail={false} className={chosen ? "selected" : undefined}>
              <IonIcon aria-hidden="true" slot="start" icon={checkmarkCircle} color={chosen ? "success" : "light"} />
              <button type="button" className="strategy-choose" aria-pressed={chosen} onClick={() => void select(s.name)}>
                <strong>{s.name}</strong>
                <small>{t("strategy.by", { name: s.createdBy })}</small>
              </button>
              <IonButton
                slot="end"
                fill="clear"
                aria-label={t("strategy.details", { name: s.name })}
                onClick={(e) => {
                  e.stopPropagation();
                  setSheet({ kind: "detail", strategy: s, testing: false });
                }}
              >
                <IonIcon aria-hidden="true" icon={informationCircleOutline} />
              </IonButton>
            </IonItem>
          );
        })}
      </IonList>

      <IonModal isOpen={sheet !== null} onDidDismiss={() => setSheet(null)}>
        <IonHeader>
          <IonToolbar>
            <IonTitle>
              {sheet?.kind === "detail"
                ? sheet.strategy.name
                : sheet?.kind === "editor" && sheet.editing
                  ? t("strategy.edit")
                  : t("strategy.create")}
            </IonTitle>
            <IonButtons slot="end">
              <IonButton onClick={() => setSheet(null)}>{t("common.close")}</IonButton>
            </IonButtons>
          </IonToolbar>
        </IonHeader>
        <IonContent className="ion-padding">
          {sheet?.kind === "detail" && (
            <div className="strategy-detail" data-testid="strategy-detail">
              <p>{t("strategy.by", { name: sheet.strategy.createdBy })}</p>
              {sheet.strategy.quadrant ? (
                <QuadrantSummary rule={sheet.strategy.quadrant} />
              ) : (
                <div className="detail-sequence">
                  <CandleRow candles={parseSequence(sheet.strategy.sequence) ?? []} />
                  <IonIcon
                    className={`direction ${sheet.strategy.operation}`}
                    icon={sheet.strategy.operation === "call" ? arrowUpOutline : arrowDownOutline}
                    aria-label={sheet.strategy.operation.toUpperCase()}
                  />
                </div>
              )}
              {sheet.strategy.mirror && <IonNote>{t("strategy.mirrored")}</IonNote>}
              <div className="buttons">
                {!sheet.strategy.quadrant && (
                  <IonButton fill="outline" onClick={() => setSheet({ ...sheet, testing: true })}>
                    {t("strategy.test")}
                  </IonButton>
                )}
                {sheet.strategy.createdBy === me && (
                  <IonButton fill="outline" onClick={() => edit(sheet.strategy)}>
                    {t("strategy.edit")}
                  </IonButton>
                )}
                <IonButton
                  onClick={() => {
                    void select(sheet.strategy.name);
                    setSheet(null);
                  }}
                >
                  {t("strategy.choose")}
                </IonButton>
              </div>
              {sheet.testing && !sheet.strategy.quadrant && (
                <BacktestView
                  sequence={sheet.strategy.sequence}
                  operation={sheet.strategy.operation}
                  mirror={sheet.strategy.mirror}
                  gales={sheet.strategy.createdBy === GLIMPSE_AUTHOR ? GLIMPSE_MM.galeCount : gales}
                  money={sheet.strategy.createdBy === GLIMPSE_AUTHOR ? GLIMPSE_MM : undefined}
                />
              )}
            </div>
          )}
          {sheet?.kind === "editor" && (
            <StrategyEditor
              initial={sheet.draft}
              editing={sheet.editing}
              initialQuadrant={sheet.quadrant}
              gales={gales}
              onCancel={() => setSheet(null)}
              onSaved={() => void saved()}
            />
          )}
        </IonContent>
      </IonModal>
    </PageFrame>
  );
}
