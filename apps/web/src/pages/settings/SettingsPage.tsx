import {
  IonButton,
  IonCheckbox,
  IonIcon,
  IonItem,
  IonLabel,
  IonList,
  IonListHeader,
  IonRadio,
  IonRadioGroup,
  IonSpinner,
} from "@ionic/react";
import { IonToggle } from "../../components/ionic/later";
import { chevronBackOutline } from "ionicons/icons";
import { useEffect, useRef, useState } from "react";
import { ApiError, api, clearToken, setToken, type AlertSettings, type Settings } from "../../api";
import LanguageSwitch from "../../components/LanguageSwitch";
import PageFrame from "../../components/PageFrame";
import SafeHtml from "../../components/SafeHtml";
import type { MessageKey } from "../../i18n/core";
import { useI18n } from "../../i18n/I18nProvider";
import { BusyButton, Form, FormError, MIN_PASSWORD, StackedField, TextField, useSubmit } from "../../lib/forms";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useFieldSaver } from "../../session/useFieldSaver";
import { useToast } from "../../session/useToast";
import ResetPasswordForm from "../login/ResetPasswordForm";
import { useHistory } from "react-router-dom";

type Panel = "account" | "password" | "forgot" | "glimpse" | "alerts" | "terms" | "language" | null;

const ALERT_SWITCHES: { key: Exclude<keyof AlertSettings, "useAlerts">; label: MessageKey }[] = [
  { key: "glimpseStart", label: "settings.alertStart" },
  { key: "glimpseStop", label: "settings.alertStop" },
  { key: "activeClose", label: "settings.alertPairClosed" },
  { key: "stopLossReached", label: "settings.alertStopLoss" },
  { key: "stopWinReached", label: "settings.alertStopWin" },
];

function AccountPanel({ onPassword }: { onPassword: () => void }) {
  const { t } = useI18n();
  const toast = useToast();
  const { account, patch } = useAccount();
  const [name, setName] = useState(account?.name ?? "");
  if (!account) return null;

  async function saveName() {
    try {
      await api.set("name", name);
      patch({ name: name.trim() });
      toast(t("common.saved"), "success");
    } catch (e) {
      toast(describeError(e, t), "danger");
    }
  }

  return (
    <IonList>
      <IonItem>
        <StackedField
          label={t("settings.name")}
          name="account-name"
          value={name}
          maxlength={80}
          onText={setName}
        />
        <IonButton slot="end" fill="clear" disabled={!name.trim() || name === account.name} onClick={() => void saveName()}>
          {t("common.save")}
        </IonButton>
      </IonItem>
      <IonItem>
        <IonLabel>
          <p>{t("login.email")}</p>
          <h3 data-testid="account-email">{account.email}</h3>
        </IonLabel>
      </IonItem>
      <IonItem>
        <IonLabel>
          <p>{t("login.password")}</p>
          <h3>•••••</h3>
        </IonLabel>
        <IonButton slot="end" fill="outline" onClick={onPassword}>
          {t("settings.changePassword")}
        </IonButton>
      </IonItem>
    </IonList>
  );
}

function PasswordPanel({ onForgot, onDone }: { onForgot: () => void; onDone: () => void }) {
  const { t } = useI18n();
  const toast = useToast();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const { busy, error, setError, run } = useSubmit();

  async function change() {
    if (!current) return setError(t("settings.currentRequired"));
    if (next.length < MIN_PASSWORD) return setError(t("password.tooShort", { n: MIN_PASSWORD }));
    if (next !== confirm) return setError(t("password.mismatch"));
    await run(
      async () => {
        const answer = await api.changePassword(current, next);
        setToken(answer.token); // the other sessions ended; this one continues with a new token
        toast(t("settings.passwordChanged"), "success");
        onDone();
      },
      (e) => (e instanceof ApiError && e.field === "currentPassword" ? t("settings.currentWrong") : null),
    );
  }

  const input = (label: MessageKey, value: string, set: (v: string) => void, name: string) => (
    <TextField label={t(label)} type="password" name={name} value={value} onText={set} />
  );

  return (
    <Form className="stack ion-padding" onSubmit={change}>
      {input("password.current", current, setCurrent, "current-password")}
      {input("password.new", next, setNext, "new-password")}
      {input("password.confirm", confirm, setConfirm, "confirm-password")}
      <FormError error={error} />
      <div className="buttons">
        <IonButton fill="clear" onClick={onForgot}>
          {t("login.forgot")}
        </IonButton>
        <BusyButton busy={busy}>{t("settings.changePassword")}</BusyButton>
      </div>
    </Form>
  );
}

function useSettingsSaver() {
  const { t } = useI18n();
  const toast = useToast();
  const { patch } = useAccount();
  const failed = useRef(false);
  const saver = useFieldSaver<Settings>("settings", (e) => {
    failed.current = true;
    toast(describeError(e, t), "danger");
  });
  // Toggles save as they move: in order, so the last state shown is the one kept.
  return async (settings: Settings) => {
    patch({ settings });
    failed.current = false;
    await saver.push(settings);
    if (!failed.current) toast(t("common.saved"), "success");
  };
}

function GlimpsePanel({ settings }: { settings: Settings }) {
  const { t } = useI18n();
  const save = useSettingsSaver();
  const [slides, setSlides] = useState(settings.glimpse.slides);
  const [priority, setPriority] = useState(settings.glimpse.operationPriority);
  return (
    <IonList>
      <IonItem>
        <IonCheckbox checked={slides} onIonChange={(e) => setSlides(e.detail.checked)} justify="space-between">
          {t("settings.slides")}
        </IonCheckbox>
      </IonItem>
      <IonRadioGroup value={priority} onIonChange={(e) => setPriority(e.detail.value)}>
        <IonListHeader>
          <IonLabel>{t("settings.priority")}</IonLabel>
        </IonListHeader>
        <IonItem>
          <IonRadio value="gale" justify="space-between">
            <IonLabel className="ion-text-wrap">
              Martin Gale
              <p>{t("settings.priorityGale")}</p>
            </IonLabel>
          </IonRadio>
        </IonItem>
        <IonItem>
          <IonRadio value="stop" justify="space-between">
            <IonLabel className="ion-text-wrap">
              Stop Loss / Stop Win
              <p>{t("settings.priorityStop")}</p>
            </IonLabel>
          </IonRadio>
        </IonItem>
      </IonRadioGroup>
      <div className="ion-padding">
        <IonButton
          expand="block"
          onClick={() => void save({ ...settings, glimpse: { slides, operationPriority: priority } })}
        >
          {t("common.save")}
        </IonButton>
      </div>
    </IonList>
  );
}

function AlertsPanel({ settings }: { settings: Settings }) {
  const { t } = useI18n();
  const save = useSettingsSaver();
  const [alerts, setAlerts] = useState<AlertSettings>(settings.alerts);
  return (
    <IonList>
      <IonItem>
        <IonToggle checked={alerts.useAlerts} onIonChange={(e) => setAlerts({ ...alerts, useAlerts: e.detail.checked })}>
          {t("settings.useAlerts")}
        </IonToggle>
      </IonItem>
      <IonListHeader>
        <IonLabel>{t("settings.showWhen")}</IonLabel>
      </IonListHeader>
      {ALERT_SWITCHES.map(({ key, label }) => (
        <IonItem key={key}>
          <IonCheckbox
            checked={alerts[key]}
            disabled={!alerts.useAlerts}
            justify="space-between"
            onIonChange={(e) => setAlerts({ ...alerts, [key]: e.detail.checked })}
          >
            {t(label)}
          </IonCheckbox>
        </IonItem>
      ))}
      <div className="ion-padding">
        <IonButton expand="block" onClick={() => void save({ ...settings, alerts })}>
          {t("common.save")}
        </IonButton>
      </div>
    </IonList>
  );
}

function TermsPanel() {
  const { t } = useI18n();
  const [terms, setTerms] = useState<string | null>(null);
  useEffect(() => {
    api
      .getTerms()
      .then((docs) => setTerms(docs[0]?.value ?? ""))
      .catch((e) => setTerms(describeError(e, t)));
  }, [t]);
  if (terms === null) return <IonSpinner />;
  return <div className="ion-padding terms-text">{terms ? <SafeHtml html={terms} /> : t("terms.empty")}</div>;
}

const MAIN: { panel: Exclude<Panel, null | "password" | "forgot">; label: MessageKey }[] = [
  { panel: "account", label: "settings.account" },
  { panel: "glimpse", label: "settings.glimpse" },
  { panel: "alerts", label: "settings.alerts" },
  { panel: "terms", label: "settings.terms" },
  { panel: "language", label: "settings.language" },
];

export default function SettingsPage() {
  const { t } = useI18n();
  const toast = useToast();
  const history = useHistory();
  const { account } = useAccount();
  const [panel, setPanel] = useState<Panel>(null);
  if (!account) return null;

  const titles: Record<Exclude<Panel, null>, MessageKey> = {
    account: "settings.account",
    password: "settings.changePassword",
    forgot: "login.forgot",
    glimpse: "settings.glimpse",
    alerts: "settings.alerts",
    terms: "settings.terms",
    language: "settings.language",
  };
  const back = panel === "password" ? "account" : panel === "forgot" ? "password" : null;

  return (
    <PageFrame title={panel ? t(titles[panel]) : t("settings.title")} padded={false}>
      {panel === null ? (
        <IonList>
          {MAIN.map((item) => (
            <IonItem key={item.panel} button onClick={() => setPanel(item.panel)}>
              <IonLabel>{t(item.label)}</IonLabel>
            </IonItem>
          ))}
          <IonItem button onClick={() => history.push("/home/notifications")} data-testid="settings-notifications">
            <IonLabel>{t("notifications.title")}</IonLabel>
          </IonItem>
        </IonList>
      ) : (
        <>
          <IonButton fill="clear" onClick={() => setPanel(back)} data-testid="settings-back">
            <IonIcon aria-hidden="true" slot="start" icon={chevronBackOutline} />
            {t("common.back")}
          </IonButton>
          {panel === "account" && <AccountPanel onPassword={() => setPanel("password")} />}
          {panel === "password" && <PasswordPanel onForgot={() => setPanel("forgot")} onDone={() => setPanel("account")} />}
          {panel === "forgot" && (
            <div className="ion-padding">
              <ResetPasswordForm
                email={account.email}
                onCancel={() => setPanel("password")}
                onDone={() => {
                  // a reset ends every session, this one included
                  clearToken();
                  toast(t("reset.done"), "success");
                  history.replace("/login");
                }}
              />
            </div>
          )}
          {panel === "glimpse" && <GlimpsePanel settings={account.settings} />}
          {panel === "alerts" && <AlertsPanel settings={account.settings} />}
          {panel === "terms" && <TermsPanel />}
          {panel === "language" && (
            <div className="ion-padding">
              <LanguageSwitch />
            </div>
          )}
        </>
      )}
    </PageFrame>
  );
}
