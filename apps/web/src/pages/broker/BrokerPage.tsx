import {
  IonButton,
  IonItem,
  IonLabel,
  IonList,
  IonNote,
  IonSpinner,
} from "@ionic/react";
import { IonInput, IonSegment, IonSegmentButton } from "../../components/ionic/later";
import { useState } from "react";
import { ApiError, api, type Balances } from "../../api";
import PageFrame from "../../components/PageFrame";
import { useI18n } from "../../i18n/I18nProvider";
import { formatMoney } from "../../lib/format";
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [balances, setBalances] = useState<Extract<Balances, { res: 1 }> | null>(null);
  if (!account) return null;

  async function connect() {
    if (!email.trim() || !password) return setError(t("login.fillBoth"));
    setBusy(true);
    setError("");
    try {
      const answer = await api.checkIq(email.trim(), password);
      if (answer.res !== 1) {
        setError(t("broker.refused"));
        return;
      }
      setBalances(answer);
      setPassword("");
      toast(t("broker.saved"), "success");
      await refresh();
    } catch (e) {
      if (e instanceof ApiError && e.status === 400 && e.field === "password") setError(t("broker.refused"));
      else if (e instanceof ApiError && (e.status === 503 || e.status === 504)) setError(t("broker.unavailable"));
      else setError(describeError(e, t));
    } finally {
      setBusy(false);
    }
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
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void connect();
        }}
      >
        <IonInput
          label={t("broker.email")}
          labelPlacement="floating"
          fill="outline"
          type="email"
          name="iq-email"
          value={email}
          onIonInput={(e) => setEmail(String(e.detail.value ?? ""))}
        />
        <IonInput
          label={t("broker.password")}
          labelPlacement="floating"
          fill="outline"
          type="password"
          name="iq-password"
          value={password}
          onIonInput={(e) => setPassword(String(e.detail.value ?? ""))}
        />
        <IonNote>{t("broker.passwordNote")}</IonNote>
        {error && (
          <IonNote color="danger" role="alert">
            {error}
          </IonNote>
        )}
        <IonButton type="submit" expand="block" disabled={busy}>
          {busy ? <IonSpinner name="dots" /> : t("broker.connect")}
        </IonButton>
      </form>

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
