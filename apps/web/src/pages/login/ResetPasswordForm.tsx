import { IonButton } from "@ionic/react";
import { useState } from "react";
import { ApiError, api } from "../../api";
import { useI18n } from "../../i18n/I18nProvider";
import { Form, FormError, MIN_PASSWORD, BusyButton, TextField, useSubmit } from "../../lib/forms";

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
  const { busy, error, setError, run } = useSubmit();

  async function send() {
    if (!email.trim()) return setError(t("login.emailRequired"));
    await run(async () => {
      await api.requestPasswordReset(email.trim());
      setSent(true);
    });
  }

  async function reset() {
    if (!code.trim()) return setError(t("reset.codeRequired"));
    if (password.length < MIN_PASSWORD) return setError(t("password.tooShort", { n: MIN_PASSWORD }));
    if (password !== confirm) return setError(t("password.mismatch"));
    await run(
      async () => {
        await api.resetPassword(email.trim(), code.trim(), password);
        onDone();
      },
      (e) => (e instanceof ApiError && e.field === "code" ? t("reset.badCode") : null),
    );
  }

  return (
    <Form onSubmit={() => (sent ? reset() : send())}>
      {!sent ? (
        <>
          <p>{t("reset.intro")}</p>
          {!knownEmail && <TextField label={t("login.email")} type="email" autocomplete="email" value={email} onText={setEmail} />}
        </>
      ) : (
        <>
          <p>{t("reset.sent", { email: email.trim() })}</p>
          <TextField label={t("reset.code")} maxlength={12} value={code} onText={setCode} />
          <TextField label={t("password.new")} type="password" autocomplete="new-password" value={password} onText={setPassword} />
          <TextField label={t("password.confirm")} type="password" autocomplete="new-password" value={confirm} onText={setConfirm} />
        </>
      )}
      <FormError error={error} />
      <div className="buttons">
        <IonButton fill="clear" onClick={onCancel} disabled={busy}>
          {t("common.back")}
        </IonButton>
        <BusyButton busy={busy}>{sent ? t("reset.submit") : t("reset.send")}</BusyButton>
      </div>
    </Form>
  );
}
