import { IonContent, IonPage } from "@ionic/react";
import { useState, type FormEvent } from "react";
import { useHistory } from "react-router-dom";
import { ApiError, api, setToken } from "../api";
import LanguageSwitch from "../components/LanguageSwitch";
import { useI18n } from "../i18n/I18nProvider";
import { useSession } from "../session";

export default function LoginPage() {
  const { t } = useI18n();
  const { refresh } = useSession();
  const history = useHistory();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError("");
    if (!email || !password) return setError(t("login.fillBoth"));
    setBusy(true);
    try {
      const answer = await api.login(email, password);
      if (answer.res !== 1) return setError(t("login.wrong"));
      setToken(answer.token);
      await refresh();
      history.replace("/overview");
    } catch (e) {
      setError(e instanceof ApiError && e.status === 429 ? t("login.throttled") : e instanceof ApiError ? e.message : t("toast.error"));
    } finally {
      setBusy(false);
    }
  };

  return (
    <IonPage>
      <IonContent className="ion-padding login-page">
        <form className="login-card" onSubmit={submit}>
          <h1>
            Glimpse <span className="badge">{t("app.manager")}</span>
          </h1>
          <LanguageSwitch />
          <label>
            {t("login.email")}
            <input data-testid="login-email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            {t("login.password")}
            <input data-testid="login-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          {error && <p className="error" data-testid="login-error">{error}</p>}
          <button type="submit" className="primary" disabled={busy} data-testid="login-submit">
            {t("login.submit")}
          </button>
        </form>
      </IonContent>
    </IonPage>
  );
}
