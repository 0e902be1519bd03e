import { IonButton, IonContent, IonPage } from "@ionic/react";
import { useEffect, useState } from "react";
import { useHistory } from "react-router-dom";
import { ApiError, api, getToken, setToken } from "../../api";
import LanguageSwitch from "../../components/LanguageSwitch";
import Logo from "../../components/Logo";
import { useI18n } from "../../i18n/I18nProvider";
import { formatDateTime } from "../../lib/format";
import { Form, FormError, MIN_PASSWORD, BusyButton, TextField, useSubmit } from "../../lib/forms";
import { useToast } from "../../session/useToast";
import ResetPasswordForm from "./ResetPasswordForm";

type View = "login" | "code" | "register" | "forgot";

export default function LoginPage() {
  const { t, language } = useI18n();
  const history = useHistory();
  const toast = useToast();
  const [view, setView] = useState<View>("login");
  const { busy, error, setError, run } = useSubmit();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [name, setName] = useState("");

  // A stored token means a session is open: the home shell checks it.
  useEffect(() => {
    if (getToken()) history.replace("/home");
  }, [history]);

  function go(next: View) {
    setError("");
    setView(next);
  }

  async function logIn(mail: string, pass: string) {
    const answer = await api.login(mail.trim(), pass);
    if (answer.res !== 1) {
      setError(t("login.wrong"));
      return;
    }
    setToken(answer.token);
    // the original recorded the last manual login; without any third-party IP lookup
    api.set("lastLogin", { time: formatDateTime(Date.now() / 1000, language) }).catch(() => undefined);
    history.replace("/home");
  }

  const submitLogin = () =>
    run(async () => {
      if (!email.trim() || !password) return setError(t("login.fillBoth"));
      await logIn(email, password);
    });

  const submitCode = () =>
    run(async () => {
      if (!code.trim()) return setError(t("login.codeRequired"));
      const answer = await api.checkCode(code.trim());
      if (answer.res === true) go("register");
      else setError(t("login.codeInvalid"));
    });

  const submitRegister = () =>
    run(async () => {
      if (!name.trim()) return setError(t("login.nameRequired"));
      if (!email.trim()) return setError(t("login.emailRequired"));
      if (password.length < MIN_PASSWORD) return setError(t("password.tooShort", { n: MIN_PASSWORD }));
      try {
        await api.insertUser(name.trim(), email.trim(), password, code.trim());
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) return setError(t("login.emailUsed"));
        if (e instanceof ApiError && e.field === "code") return setError(t("login.codeInvalid"));
        throw e;
      }
      toast(t("login.registered"), "success");
      await logIn(email, password);
    });

  return (
    <IonPage>
      <IonContent className="ion-padding login-page">
        <div className="login-lang">
          <LanguageSwitch />
        </div>
        <div className="hero">
          <Logo />
          <h1>
            Glimpse <span className="badge">beta</span>
          </h1>
        </div>
        <div className="login-card">
          {view === "login" && (
            <Form onSubmit={submitLogin}>
              <TextField label={t("login.email")} type="email" autocomplete="email" name="email" value={email} onText={setEmail} />
              <TextField
                label={t("login.password")}
                type="password"
                autocomplete="current-password"
                name="password"
                value={password}
                onText={setPassword}
                onKeyDown={(e) => {
                  if (e.key === "Enter") void submitLogin();
                }}
              />
              <FormError error={error} />
              <BusyButton expand="block" busy={busy}>
                {t("login.submit")}
              </BusyButton>
              <div className="buttons">
                <IonButton fill="clear" size="small" onClick={() => go("forgot")}>
                  {t("login.forgot")}
                </IonButton>
                <IonButton fill="clear" size="small" onClick={() => go("code")}>
                  {t("login.haveCode")}
                </IonButton>
              </div>
            </Form>
          )}

          {view === "code" && (
            <Form onSubmit={submitCode}>
              <p>{t("login.codeIntro")}</p>
              <TextField label={t("login.code")} name="code" value={code} onText={setCode} />
              <FormError error={error} />
              <div className="buttons">
                <IonButton fill="clear" onClick={() => go("login")}>
                  {t("common.back")}
                </IonButton>
                <BusyButton busy={busy}>{t("login.validate")}</BusyButton>
              </div>
            </Form>
          )}

          {view === "register" && (
            <Form onSubmit={submitRegister}>
              <TextField label={t("login.fullName")} autocomplete="name" name="name" value={name} onText={setName} />
              <TextField label={t("login.email")} type="email" autocomplete="email" name="email" value={email} onText={setEmail} />
              <TextField
                label={t("login.password")}
                type="password"
                autocomplete="new-password"
                name="password"
                helperText={t("password.tooShort", { n: MIN_PASSWORD })}
                value={password}
                onText={setPassword}
              />
              <FormError error={error} />
              <div className="buttons">
                <IonButton fill="clear" onClick={() => go("login")}>
                  {t("common.cancel")}
                </IonButton>
                <BusyButton busy={busy}>{t("login.register")}</BusyButton>
              </div>
            </Form>
          )}

          {view === "forgot" && (
            <ResetPasswordForm
              onCancel={() => go("login")}
              onDone={() => {
                toast(t("reset.done"), "success");
                setPassword("");
                go("login");
              }}
            />
          )}
        </div>
      </IonContent>
    </IonPage>
  );
}
