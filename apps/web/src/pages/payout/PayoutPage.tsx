import {
  IonNote,
} from "@ionic/react";
import { IonRange, IonSegment, IonSegmentButton } from "../../components/ionic/later";
import { useState } from "react";
import PageFrame from "../../components/PageFrame";
import { useI18n } from "../../i18n/I18nProvider";
import { parsePayout, payoutString, type PayoutFilter } from "../../lib/format";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useFieldSaver } from "../../session/useFieldSaver";
import { useToast } from "../../session/useToast";

const MIN = 75;
const MAX = 99;

/** The payout filter: over or exactly N %, N from 75 to 99. Saved as it changes, in order (see orderedSave). */
export default function PayoutPage() {
  const { t } = useI18n();
  const toast = useToast();
  const { account, patch } = useAccount();
  const [filter, setFilter] = useState<PayoutFilter>(() => {
    const f = parsePayout(account?.preferedPayout);
    return { ...f, value: Math.min(MAX, Math.max(MIN, f.value)) };
  });

  const saver = useFieldSaver<string>("preferedPayout", (e) => toast(describeError(e, t), "danger"));

  function save(next: PayoutFilter) {
    setFilter(next);
    const value = payoutString(next);
    patch({ preferedPayout: value });
    void saver.push(value);
  }

  return (
    <PageFrame title={t("payout.title")} panel>
      <IonSegment
        value={filter.operator}
        onIonChange={(e) => save({ ...filter, operator: e.detail.value as ">" | "=" })}
        data-testid="payout-operator"
      >
        <IonSegmentButton value=">">{t("payout.over")}</IonSegmentButton>
        <IonSegmentButton value="=">{t("payout.exactly")}</IonSegmentButton>
      </IonSegment>
      <p className="payout-value" data-testid="payout-value" aria-live="polite">
        {filter.operator} {filter.value} %
      </p>
      <IonRange
        min={MIN}
        max={MAX}
        step={1}
        snaps={false}
        pin
        value={filter.value}
        aria-label={t("payout.title")}
        data-testid="payout-range"
        onIonInput={(e) => setFilter((f) => ({ ...f, value: Number(e.detail.value) }))}
        onIonChange={(e) => save({ ...filter, value: Number(e.detail.value) })}
      >
        <span slot="start">{MIN}</span>
        <span slot="end">{MAX}</span>
      </IonRange>
      <IonNote>{filter.operator === ">" ? t("payout.overNote", { n: filter.value }) : t("payout.exactNote", { n: filter.value })}</IonNote>
    </PageFrame>
  );
}
