// Settings › Notifications: link Telegram (a one-time code sent to the bot), the
// event switches and message language, webhooks, and a test button for each.
// The server (api/routes/notifications.py) holds everything; this page only shows it.

import { IonButton, IonItem, IonLabel, IonList, IonListHeader, IonNote, IonSpinner } from "@ionic/react";
import { IonSegment, IonSegmentButton, IonToggle } from "../../components/ionic/later";
import { useCallback, useEffect, useState } from "react";
import { call } from "../../api/client";
import PageFrame from "../../components/PageFrame";
import { useI18n } from "../../i18n/I18nProvider";
import { StackedField } from "../../lib/forms";
import { describeError } from "../../session/errors";
import { useToast } from "../../session/useToast";
import type { MessageKey } from "../../i18n/core";

type EventName = "sessionStarted" | "sessionStopped" | "cycleResult" | "stopLoss" | "stopWin" | "dailySummary";
type MessageLanguage = "pt-BR" | "en";

interface Webhook {
  id: string;
  url: string;
  scope: "user" | "all";
  createdAt: number;
}

interface NotificationSettings {
  language: MessageLanguage;
  events: Record<EventName, boolean>;
  telegram: { linked: boolean; linkedAt: number | null; chat: string };
  bot: { configured: boolean; name: string };
  webhooks: Webhook[];
  eventNames: EventName[];
}

interface LinkCode {
  res: 0 | 1;
  code?: string;
  command?: string;
  bot?: string;
  link?: string;
  expiresAt?: number;
  error?: string;
}

type Queued = { res: 0 | 1; id?: string | null; error?: string };

const notificationsApi = {
  get: () => call<NotificationSettings>("getNotifications"),
  set: (changes: { language?: MessageLanguage; events?: Partial<Record<EventName, boolean>> }) =>
    call<Omit<NotificationSettings, "bot" | "webhooks" | "eventNames">>("setNotifications", changes),
  linkTelegram: () => call<LinkCode>("linkTelegram"),
  unlinkTelegram: () => call<{ res: 0 | 1 }>("unlinkTelegram"),
  testTelegram: () => call<Queued>("testTelegram"),
  registerWebhook: (url: string) => call<Webhook & { secret: string }>("registerWebhook", { url }),
  deleteWebhook: (id: string) => call<{ res: 0 | 1 }>("deleteWebhook", { id }),
  testWebhook: (id: string) => call<Queued>("testWebhook", { id }),
};

export default function NotificationsPage() {
  const { t } = useI18n();
  const toast = useToast();
  const [settings, setSettings] = useState<NotificationSettings | null>(null);
  const [link, setLink] = useState<LinkCode | null>(null);
  const [url, setUrl] = useState("");
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setSettings(await notificationsApi.get());
    } catch (e) {
      toast(describeError(e, t), "danger");
    }
  }, [t, toast]);

  useEffect(() => {
    void load();
  }, [load]);

  async function run<T>(action: () => Promise<T>, done?: (result: T) => void) {
    setBusy(true);
    try {
      const result = await action();
      done?.(result);
    } catch (e) {
      toast(describeError(e, t), "danger");
    } finally {
      setBusy(false);
    }
  }

  if (!settings) {
    return (
      <PageFrame title={t("notifications.title")}>
        <IonSpinner data-testid="notifications-loading" />
      </PageFrame>
    );
  }

  const saveSwitch = (event: EventName, on: boolean) =>
    run(
      () => notificationsApi.set({ events: { [event]: on } }),
      (saved) => setSettings({ ...settings, ...saved }),
    );
  const saveLanguage = (value: MessageLanguage) =>
    run(
      () => notificationsApi.set({ language: value }),
      (saved) => setSettings({ ...settings, ...saved }),
    );
  const queued = (answer: Queued) =>
    answer.res === 1 ? toast(t("notifications.testQueued"), "success") : toast(answer.error ?? "", "danger");

  return (
    <PageFrame title={t("notifications.title")}>
      <IonList>
        <IonListHeader>
          <IonLabel>{t("notifications.telegram")}</IonLabel>
        </IonListHeader>
        {!settings.bot.configured ? (
          <IonItem>
            <IonNote data-testid="telegram-off">{t("notifications.telegramOff")}</IonNote>
          </IonItem>
        ) : settings.telegram.linked ? (
          <IonItem>
            <IonLabel data-testid="telegram-state">{t("notifications.linked", { chat: settings.telegram.chat })}</IonLabel>
            <IonButton
              slot="end"
              disabled={busy}
              data-testid="telegram-test"
              onClick={() => run(notificationsApi.testTelegram, queued)}
            >
              {t("notifications.test")}
            </IonButton>
            <IonButton
              slot="end"
              fill="outline"
              color="medium"
              disabled={busy}
              data-testid="telegram-unlink"
              onClick={() => run(notificationsApi.unlinkTelegram, () => load())}
            >
              {t("notifications.unlink")}
            </IonButton>
          </IonItem>
        ) : (
          <>
            <IonItem>
              <IonLabel data-testid="telegram-state">{t("notifications.notLinked")}</IonLabel>
              <IonButton
                slot="end"
                disabled={busy}
                data-testid="telegram-link"
                onClick={() => run(notificationsApi.linkTelegram, setLink)}
              >
                {t("notifications.link")}
              </IonButton>
            </IonItem>
            {link?.res === 1 && (
              <IonItem lines="none">
                <IonLabel className="ion-text-wrap">
                  <p>{t("notifications.linkSteps", { bot: link.bot ?? "" })}</p>
                  <h2 data-testid="telegram-command">
                    <code>{link.command}</code>
                  </h2>
                  {link.link && (
                    <IonButton size="small" href={link.link} target="_blank" rel="noopener">
                      {t("notifications.openBot")}
                    </IonButton>
                  )}
                  <IonButton size="small" fill="outline" data-testid="telegram-check" onClick={() => void load()}>
                    {t("notifications.checkLink")}
                  </IonButton>
                </IonLabel>
              </IonItem>
            )}
            {link?.res === 0 && (
              <IonItem>
                <IonNote color="danger">{link.error}</IonNote>
              </IonItem>
            )}
          </>
        )}

        <IonListHeader>
          <IonLabel>{t("notifications.language")}</IonLabel>
        </IonListHeader>
        <IonItem>
          <IonSegment
            value={settings.language}
            data-testid="notifications-language"
            onIonChange={(e) => {
              const value = e.detail.value;
              if ((value === "pt-BR" || value === "en") && value !== settings.language) void saveLanguage(value);
            }}
          >
            <IonSegmentButton value="pt-BR">
              <IonLabel>Português</IonLabel>
            </IonSegmentButton>
            <IonSegmentButton value="en">
              <IonLabel>English</IonLabel>
            </IonSegmentButton>
          </IonSegment>
        </IonItem>

        <IonListHeader>
          <IonLabel>{t("notifications.events")}</IonLabel>
        </IonListHeader>
        {settings.eventNames.map((event) => (
          <IonItem key={event}>
            <IonToggle
              checked={settings.events[event]}
              disabled={busy}
              data-testid={`event-${event}`}
              onIonChange={(e) => void saveSwitch(event, e.detail.checked)}
            >
              {t(`notifications.event.${event}` as MessageKey)}
            </IonToggle>
          </IonItem>
        ))}

        <IonListHeader>
          <IonLabel>{t("notifications.webhooks")}</IonLabel>
        </IonListHeader>
        <IonItem lines="none">
          <IonNote className="ion-text-wrap">{t("notifications.webhookHint")}</IonNote>
        </IonItem>
        {settings.webhooks.length === 0 && (
          <IonItem>
            <IonNote>{t("notifications.none")}</IonNote>
          </IonItem>
        )}
        {settings.webhooks.map((hook) => (
          <IonItem key={hook.id} data-testid="webhook">
            <IonLabel className="ion-text-wrap">
              <h3>{hook.url}</h3>
              {secret?.id === hook.id && (
                <p data-testid="webhook-secret">
                  {t("notifications.secretOnce")} <code>{secret.secret}</code>
                </p>
              )}
            </IonLabel>
            <IonButton slot="end" disabled={busy} onClick={() => run(() => notificationsApi.testWebhook(hook.id), queued)}>
              {t("notifications.test")}
            </IonButton>
            <IonButton
              slot="end"
              fill="outline"
              color="danger"
              disabled={busy}
              onClick={() => run(() => notificationsApi.deleteWebhook(hook.id), () => load())}
            >
              {t("notifications.delete")}
            </IonButton>
          </IonItem>
        ))}
        <IonItem>
          <StackedField
            label={t("notifications.webhookUrl")}
            type="url"
            value={url}
            data-testid="webhook-url"
            onText={setUrl}
          />
          <IonButton
            slot="end"
            disabled={busy || !url.trim()}
            data-testid="webhook-add"
            onClick={() =>
              run(
                () => notificationsApi.registerWebhook(url.trim()),
                (hook) => {
                  setSecret({ id: hook.id, secret: hook.secret });
                  setUrl("");
                  void load();
                },
              )
            }
          >
            {t("notifications.addWebhook")}
          </IonButton>
        </IonItem>
      </IonList>
    </PageFrame>
  );
}
