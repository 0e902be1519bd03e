import {
  IonButton,
  IonNote,
  IonSpinner,
} from "@ionic/react";
import { IonInput } from "../../components/ionic/later";
import { useState } from "react";
import { ApiError, api } from "../../api";
import { useI18n } from "../../i18n/I18nProvider";
import { describeError } from "../../session/errors";

const MIN_PASSWORD = 8;

interface Props {
  email?: string; // known (Settings): the email step is skipped
  onDone: () => void;
  onCancel: () => void;
}

/** Forgotten password: the server mails a single-use code; the code and a new password set it. */
export default function ResetPasswordForm({ email: knownEmail, onDone, onCancel }: Props) {
  const { t } = useI18n();
  const [email, setEmail] = useState(knownEmail ?? "");
  const [sent, setSent] = useState(false);
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  async function send() {
    if (!email.trim()) return setError(t("login.emailRequired"));
    setBusy(true);
    setError("");
    try {
      await api.requestPasswordReset(email.trim());
      setSent(true);
    } catch (e) {
      setError(describeError(e, t));
    } finally {
      setBusy(false);
    }
  }

  async function reset() {
    if (!code.trim()) return setError(t("reset.codeRequired"));
    if (password.length < MIN_PASSWORD) return setError(t("password.tooShort", { n: MIN_PASSWORD }));
    if (password !== confirm) return setError(t("password.mismatch"));
    setBusy(true);
    setError("");
    try {
      await api.resetPassword(email.trim(), code.trim(), password);
      onDone();
    } catch (e) {
      setError(e instanceof ApiError && e.field === "code" ? t("reset.badCode") : describeError(e, t));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void (sent ? reset() : send());
      }}
    >
      {!sent ? (
        <>
          <p>{t("reset.intro")}</p>
          {!knownEmail && (
            <IonInput
              label={t("login.email")}
              labelPlacement="floating"
              fill="outline"
              type="email"
              autocomplete="email"
              value={email}
              onIonInput={(e) => setEmail(String(e.detail.value ?? ""))}
            />
          )}
        </>
      ) : (
        <>
          <p>{t("reset.sent", { email: email.trim() })}</p>
          <IonInput
            label={t("reset.code")}
            labelPlacement="floating"
            fill="outline"
            maxlength={12}
            value={code}
            onIonInput={(e) => setCode(String(e.detail.value ?? ""))}
          />
          <IonInput
            label={t("password.new")}
            labelPlacement="floating"
            fill="outline"
            type="password"
            autocomplete="new-password"
            value={password}
            onIonInput={(e) => setPassword(String(e.detail.value ?? ""))}
          />
          <IonInput
            label={t("password.confirm")}
            labelPlacement="floating"
            fill="outline"
            type="password"
            autocomplete="new-password"
            value={confirm}
            onIonInput={(e) => setConfirm(String(e.detail.value ?? ""))}
          />
        </>
      )}
      {error && (
        <IonNote color="danger" role="alert">
          {error}
        </IonNote>
      )}
      <div className="buttons">
        <IonButton fill="clear" onClick={onCancel} disabled={busy}>
          {t("common.back")}
        </IonButton>
        <IonButton type="submit" disabled={busy}>
          {busy ? <IonSpinner name="dots" /> : sent ? t("reset.submit") : t("reset.send")}
        </IonButton>
      </div>
    </form>
  );
}
