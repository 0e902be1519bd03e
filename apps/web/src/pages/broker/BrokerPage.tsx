import { IonItem, IonLabel, IonList, IonNote } from "@ionic/react";
import { IonSegment, IonSegmentButton } from "../../components/ionic/later";
import { useState } from "react";
import { ApiError, api, type Balances } from "../../api";
import PageFrame from "../../components/PageFrame";
import { useI18n } from "../../i18n/I18nProvider";
import { formatMoney } from "../../lib/format";
import { BusyButton, Form, FormError, TextField, useSubmit } from "../../lib/forms";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useToast } from "../../session/useToast";

/** IQ Option credentials (checked by the broker through checkIq) and the PRACTICE/REAL switch. */
export default function BrokerPage() {
  const { t, language } = useI18n();
  const toast = useToast();
  const { account, refresh, patch } = useAccount();
  const [email, setEmail] = useState(account?.iqEmail ?? "");
  const [password, setPassword] = useState("");
  const { busy, error, setError, run } = useSubmit();
  const [balances, setBalances] = useState<Extract<Balances, { res: 1 }> | null>(null);
  if (!account) return null;

  async function connect() {
    if (!email.trim() || !password) return setError(t("login.fillBoth"));
    await run(
      async () => {
        const answer = await api.checkIq(email.trim(), password);
        if (answer.res !== 1) {
          setError(t("broker.refused"));
          return;
        }
        setBalances(answer);
        setPassword("");
        toast(t("broker.saved"), "success");
        await refresh();
      },
      (e) => {
        if (e instanceof ApiError && e.status === 400 && e.field === "password") return t("broker.refused");
        if (e instanceof ApiError && (e.status === 503 || e.status === 504)) return t("broker.unavailable");
        return null;
      },
    );
  }

  async function setType(type: "treinamento" | "real") {
    if (type === account!.iqAccountType) return;
    try {
      await api.set("iqAccountType", type);
      patch({ iqAccountType: type });
    } catch (e) {
      toast(describeError(e, t), "danger");
    }
  }

  const practice = balances?.treinamento ?? account.iqBalancePractice;
  const real = balances?.real ?? account.iqBalanceReal;

  return (
    <PageFrame title={t("broker.title")} panel>
      <p className="state">
        {t("broker.state")}:{" "}
        <strong data-testid="broker-state" className={account.iqConnected ? "win" : "loss"}>
          {account.iqConnected ? t("broker.connected") : t("broker.disconnected")}
        </strong>
      </p>
      <Form onSubmit={connect}>
        <TextField label={t("broker.email")} type="email" name="iq-email" value={email} onText={setEmail} />
        <TextField label={t("broker.password")} type="password" name="iq-password" value={password} onText={setPassword} />
        <IonNote>{t("broker.passwordNote")}</IonNote>
        <FormError error={error} />
        <BusyButton expand="block" busy={busy}>
          {t("broker.connect")}
        </BusyButton>
      </Form>

      {account.iqConnected && (
        <IonList className="balances" data-testid="balances">
          <IonItem>
            <IonLabel>{t("broker.practice")}</IonLabel>
            <span slot="end">{formatMoney(practice, language)}</span>
          </IonItem>
          <IonItem>
            <IonLabel>{t("broker.real")}</IonLabel>
            <span slot="end">{formatMoney(real, language)}</span>
          </IonItem>
        </IonList>
      )}

      <h3>{t("broker.accountType")}</h3>
      <IonSegment
        value={account.iqAccountType}
        onIonChange={(e) => void setType(e.detail.value as "treinamento" | "real")}
        data-testid="account-type"
      >
        <IonSegmentButton value="treinamento">PRACTICE</IonSegmentButton>
        <IonSegmentButton value="real">REAL</IonSegmentButton>
      </IonSegment>
      <IonNote>{t("broker.accountTypeNote")}</IonNote>
    </PageFrame>
  );
}
