import { IonButton, IonCheckbox, IonIcon, IonItem, IonNote } from "@ionic/react";
import { IonSegment, IonSegmentButton } from "../../components/ionic/later";
import { addOutline, arrowDownOutline, arrowUpOutline, removeOutline, swapVerticalOutline } from "ionicons/icons";
import { useState } from "react";
import { api } from "../../api";
import type { MessageKey } from "../../i18n/core";
import { useI18n } from "../../i18n/I18nProvider";
import { BusyButton, FormError, StackedField, useSubmit } from "../../lib/forms";
import {
  MAX_CANDLES,
  MAX_NAME_LENGTH,
  MIN_CANDLES,
  invert,
  nameProblem,
  resize,
  sequenceString,
  setCandle,
  strategyBody,
  type Colour,
  type StrategyDraft,
} from "../../lib/candles";
import BacktestView from "./BacktestView";
import CandleRow from "./CandleRow";
import { QUADRANT_PRESETS, presetOf, ruleOf, ruleParams, saveQuadrant, type QuadrantRuleDoc } from "./quadrants";

const NAME_PROBLEMS: Record<string, MessageKey> = {
  required: "strategy.nameRequired",
  tooShort: "strategy.nameShort",
  tooLong: "strategy.nameLong",
  reserved: "strategy.nameReserved",
};

interface Props {
  initial: StrategyDraft;
  editing: boolean;
  gales: number;
  /** A quadrant strategy's rule (MHI...): the editor opens on the quadrant choice. */
  initialQuadrant?: QuadrantRuleDoc;
  onSaved: (name: string) => void;
  onCancel: () => void;
}

/** Create or edit a strategy: 3-12 candles, the decision, the mirror flag (Test runs the backtest);
 * or a quadrant strategy: MHI and the other presets, which decide at their entry minutes. */
export default function StrategyEditor({ initial, editing, gales, initialQuadrant, onSaved, onCancel }: Props) {
  const { t } = useI18n();
  const [draft, setDraft] = useState<StrategyDraft>(initial);
  const [kind, setKind] = useState<"sequence" | "quadrant">(initialQuadrant ? "quadrant" : "sequence");
  const [quadrant, setQuadrant] = useState<QuadrantRuleDoc>(initialQuadrant ?? ruleOf(QUADRANT_PRESETS[0]));
  const [selected, setSelected] = useState<number | null>(null);
  const [testing, setTesting] = useState(false);
  const { busy, error, setError, run } = useSubmit();

  const update = (changes: Partial<StrategyDraft>) => {
    setDraft((d) => ({ ...d, ...changes }));
    setTesting(false);
    setError("");
  };
  const paint = (colour: Colour) => {
    if (selected !== null) update({ candles: setCandle(draft.candles, selected, colour) });
  };

  async function save() {
    const problem = nameProblem(draft.name);
    if (problem) return setError(t(NAME_PROBLEMS[problem]));
    await run(async () => {
      const body = strategyBody(draft);
      const answer =
        kind === "quadrant"
          ? await saveQuadrant(editing, body.name, quadrant)
          : editing
            ? await api.editStrategy(body)
            : await api.createStrategy(body);
      if (answer.res === 1) onSaved(body.name);
      else setError(editing ? t("strategy.notFound") : t("strategy.nameTaken"));
    });
  }

  return (
    <div className="editor" data-testid="strategy-editor">
      <IonItem>
        <StackedField
          label={t("strategy.name")}
          name="strategy-name"
          maxlength={MAX_NAME_LENGTH}
          counter
          readonly={editing}
          value={draft.name}
          onText={(name) => update({ name })}
        />
      </IonItem>

      <IonSegment
        value={kind}
        onIonChange={(e) => {
          setKind(e.detail.value === "quadrant" ? "quadrant" : "sequence");
          setTesting(false);
          setError("");
        }}
        data-testid="strategy-kind"
      >
        <IonSegmentButton value="sequence">{t("strategy.kindSequence")}</IonSegmentButton>
        <IonSegmentButton value="quadrant">{t("strategy.kindQuadrant")}</IonSegmentButton>
      </IonSegment>

      {kind === "quadrant" && (
        <div className="quadrant-choice" data-testid="quadrant-choice">
          <label className="bt-period">
            {t("strategy.preset")}
            <select
              name="quadrant-preset"
              value={presetOf(quadrant)?.key ?? "custom"}
              onChange={(e) => {
                const chosen = QUADRANT_PRESETS.find((p) => p.key === e.target.value);
                if (chosen) setQuadrant(ruleOf(chosen));
                setError("");
              }}
            >
              {QUADRANT_PRESETS.map((p) => (
                <option key={p.key} value={p.key}>
                  {p.name}
                </option>
              ))}
              {!presetOf(quadrant) && <option value="custom">{t("strategy.customQuadrant")}</option>}
            </select>
          </label>
          <p data-testid="quadrant-rule">
            {t("strategy.quadrantRule", ruleParams(quadrant, t(quadrant.pick === "minority" ? "strategy.minority" : "strategy.majority")))}
          </p>
          <IonNote>{t("strategy.quadrantNote")}</IonNote>
        </div>
      )}

      {kind === "sequence" && (
        <>
          <div className="editor-row">
            <IonButton fill="outline" size="small" onClick={() => update(invert(draft))}>
              <IonIcon aria-hidden="true" slot="start" icon={swapVerticalOutline} />
              {t("strategy.invert")}
            </IonButton>
            <div className="counter">
              <IonButton
                fill="clear"
                size="small"
                aria-label={t("strategy.fewer")}
                disabled={draft.candles.length <= MIN_CANDLES}
                onClick={() => {
                  update({ candles: resize(draft.candles, draft.candles.length - 1) });
                  setSelected(null);
                }}
              >
                <IonIcon aria-hidden="true" icon={removeOutline} />
              </IonButton>
              <span data-testid="candle-count">{t("strategy.candles", { n: draft.candles.length })}</span>
              <IonButton
                fill="clear"
                size="small"
                aria-label={t("strategy.more")}
                disabled={draft.candles.length >= MAX_CANDLES}
                onClick={() => update({ candles: resize(draft.candles, draft.candles.length + 1) })}
              >
                <IonIcon aria-hidden="true" icon={addOutline} />
              </IonButton>
            </div>
          </div>

          <CandleRow candles={draft.candles} selected={selected} onSelect={setSelected} />
          <div className="palette" aria-label={t("strategy.paint")}>
            <IonButton size="small" color="danger" disabled={selected === null} onClick={() => paint(-1)}>
              {t("candle.red")}
            </IonButton>
            <IonButton size="small" color="medium" disabled={selected === null} onClick={() => paint(0)}>
              {t("candle.doji")}
            </IonButton>
            <IonButton size="small" color="success" disabled={selected === null} onClick={() => paint(1)}>
              {t("candle.green")}
            </IonButton>
          </div>
          <IonNote>{selected === null ? t("strategy.tapCandle") : t("strategy.candleN", { n: selected + 1 })}</IonNote>

          <h4>{t("strategy.decision")}</h4>
          <IonSegment value={draft.operation} onIonChange={(e) => update({ operation: e.detail.value as "call" | "put" })}>
            <IonSegmentButton value="call">
              <IonIcon aria-hidden="true" icon={arrowUpOutline} /> CALL
            </IonSegmentButton>
            <IonSegmentButton value="put">
              <IonIcon aria-hidden="true" icon={arrowDownOutline} /> PUT
            </IonSegmentButton>
          </IonSegment>
          <IonItem lines="none">
            <IonCheckbox checked={draft.mirror} onIonChange={(e) => update({ mirror: e.detail.checked })} labelPlacement="end">
              {t("strategy.mirror")}
            </IonCheckbox>
          </IonItem>
          <IonNote>{t("strategy.mirrorNote")}</IonNote>
        </>
      )}

      <FormError error={error} />
      <div className="buttons">
        <IonButton fill="clear" onClick={onCancel}>
          {t("common.cancel")}
        </IonButton>
        {kind === "sequence" && (
          <IonButton fill="outline" onClick={() => setTesting(true)} data-testid="test-strategy">
            {t("strategy.test")}
          </IonButton>
        )}
        <BusyButton type="button" onClick={() => void save()} busy={busy} data-testid="save-strategy">
          {t("common.save")}
        </BusyButton>
      </div>
      {kind === "quadrant" && <IonNote>{t("strategy.quadrantNoTest")}</IonNote>}
      {testing && kind === "sequence" && (
        <BacktestView
          sequence={sequenceString(draft.candles)}
          operation={draft.operation}
          mirror={draft.mirror}
          gales={gales}
        />
      )}
    </div>
  );
}
