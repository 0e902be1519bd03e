import { IonButton, IonItem, IonLabel, IonList, IonListHeader, IonNote, IonRadio, IonRadioGroup, IonSpinner } from "@ionic/react";
import { IonToggle } from "../../components/ionic/later";
import { useState } from "react";
import { api, type MoneySettings } from "../../api";
import PageFrame from "../../components/PageFrame";
import type { MessageKey } from "../../i18n/core";
import { useI18n } from "../../i18n/I18nProvider";
import { StackedField } from "../../lib/forms";
import GlimpseNotice from "../../components/GlimpseNotice";
import { parsePayout } from "../../lib/format";
import { parseAmountCents } from "../../lib/gale";
import { glimpseStrategy, useStrategies } from "../../session/useStrategies";
import GaleCalculator from "./GaleCalculator";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useToast } from "../../session/useToast";

const MIN_STAKE = 1;
const MAX_GALES = 10;

const GALE_TYPES: { value: MoneySettings["galeType"]; label: MessageKey; note: MessageKey }[] = [
  { value: "dobro", label: "order.double", note: "order.doubleNote" },
  { value: "cobrir", label: "order.cover", note: "order.coverNote" },
  { value: "sobra", label: "order.coverProfit", note: "order.coverProfitNote" },
];

interface Form {
  money: string;
  gale: boolean;
  galeCount: string;
  galeType: MoneySettings["galeType"];
  sobra: string;
  stopLoss: boolean;
  stopLossValue: string;
  stopWin: boolean;
  stopWinValue: string;
}

function toForm(s: MoneySettings): Form {
  return {
    money: String(s.money),
    gale: s.gale,
    galeCount: String(s.galeCount),
    galeType: s.galeType,
    sobra: String(s.sobra),
    stopLoss: s.stopLoss,
    stopLossValue: String(s.stopLossValue),
    stopWin: s.stopWin,
    stopWinValue: String(s.stopWinValue),
  };
}

type Check = { settings: MoneySettings } | { problem: MessageKey };

/** An amount typed as "1.234,56" or "1234.56" in reais, or null (never below `min`). */
function amount(text: string, min = 0): number | null {
  const cents = parseAmountCents(text);
  return cents === null || cents < min * 100 ? null : cents / 100;
}

function check(f: Form): Check {
  const money = amount(f.money, MIN_STAKE);
  if (money === null) return { problem: "order.badMoney" };
  const galeCount = Number(f.galeCount);
  if (!Number.isInteger(galeCount) || galeCount < 0 || galeCount > MAX_GALES) return { problem: "order.badGaleCount" };
  const sobra = amount(f.sobra || "0");
  const stopLossValue = amount(f.stopLossValue || "0");
  const stopWinValue = amount(f.stopWinValue || "0");
  if (sobra === null || stopLossValue === null || stopWinValue === null) return { problem: "order.badValue" };
  if (f.stopLoss && stopLossValue <= 0) return { problem: "order.badStopLoss" };
  if (f.stopWin && stopWinValue <= 0) return { problem: "order.badStopWin" };
  return {
    settings: {
      money,
      gale: f.gale,
      galeCount,
      galeType: f.galeType,
      sobra,
      stopLoss: f.stopLoss,
      stopLossValue,
      stopWin: f.stopWin,
      stopWinValue,
    },
  };
}

/** Order sizing: stake, gales and stops. The same settings serve strategies and signals. */
export default function OrderOptionsPage() {
  const { t } = useI18n();
  const toast = useToast();
  const { account, patch } = useAccount();
  const [form, setForm] = useState<Form | null>(() => (account ? toForm(account.strategySettings) : null));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [payout, setPayout] = useState(() => String(parsePayout(account?.preferedPayout).value));
  const strategies = useStrategies();
  const glimpse = glimpseStrategy(account, strategies);
  if (!form) return null;

  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => (f ? { ...f, [key]: value } : f));

  async function save() {
    const result = check(form!);
    if ("problem" in result) return setError(t(result.problem));
    setError("");
    setBusy(true);
    try {
      await api.updateUser(["strategySettings", "signalSettings"], [result.settings, result.settings]);
      patch({ strategySettings: result.settings, signalSettings: result.settings });
      toast(t("common.saved"), "success");
    } catch (e) {
      setError(describeError(e, t));
    } finally {
      setBusy(false);
    }
  }

  const text = (key: "money" | "galeCount" | "sobra" | "stopLossValue" | "stopWinValue", label: MessageKey, disabled = false) => (
    <IonItem>
      <StackedField
        label={t(label)}
        inputmode={key === "galeCount" ? "numeric" : "decimal"}
        name={key}
        value={form[key]}
        disabled={disabled}
        onText={(text) => set(key, text)}
      />
    </IonItem>
  );

  return (
    <PageFrame title={t("order.title")} panel padded={false}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {glimpse && (
          <div className="ion-padding-horizontal">
            <GlimpseNotice strategy={glimpse.name} />
          </div>
        )}
        <IonList>
          {text("money", "order.money")}
          <IonItem>
            <IonToggle checked={form.gale} onIonChange={(e) => set("gale", e.detail.checked)} name="gale">
              Martin Gale
            </IonToggle>
          </IonItem>
          {text("galeCount", "order.galeCount", !form.gale)}
        </IonList>
        {/* a radio group is not a list item: it sits between two lists */}
        <IonRadioGroup value={form.galeType} onIonChange={(e) => set("galeType", e.detail.value)}>
            <IonListHeader>
              <IonLabel>{t("order.galeType")}</IonLabel>
            </IonListHeader>
            {GALE_TYPES.map((g) => (
              <IonItem key={g.value}>
                <IonRadio value={g.value} disabled={!form.gale} justify="space-between">
                  <IonLabel>
                    {t(g.label)}
                    <p>{t(g.note)}</p>
                  </IonLabel>
                </IonRadio>
              </IonItem>
            ))}
          </IonRadioGroup>
        <IonList>
          {text("sobra", "order.sobra", !form.gale || form.galeType !== "sobra")}
          <IonItem>
            <IonToggle checked={form.stopLoss} onIonChange={(e) => set("stopLoss", e.detail.checked)} name="stopLoss">
              Stop Loss
            </IonToggle>
          </IonItem>
          {form.stopLoss && text("stopLossValue", "order.stopLossValue")}
          <IonItem>
            <IonToggle checked={form.stopWin} onIonChange={(e) => set("stopWin", e.detail.checked)} name="stopWin">
              Stop Win
            </IonToggle>
          </IonItem>
          {form.stopWin && text("stopWinValue", "order.stopWinValue")}
        </IonList>
        <GaleCalculator input={{ ...form, payout }} onPayout={setPayout} />
        <div className="ion-padding stack">
          <IonNote>{t("order.stopsNote")}</IonNote>
          {error && (
            <IonNote color="danger" role="alert">
              {error}
            </IonNote>
          )}
          <IonButton type="submit" expand="block" disabled={busy} data-testid="save-order-options">
            {busy ? <IonSpinner name="dots" /> : t("common.save")}
          </IonButton>
        </div>
      </form>
    </PageFrame>
  );
}
