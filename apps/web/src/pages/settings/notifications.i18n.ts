// Texts of the Notifications page (Settings › Notifications), pt-BR and English.
// Kept beside the page until they are merged into i18n/pt.ts and i18n/en.ts
// (same keys; the page then uses useI18n().t instead of `notificationsText`).

import { createTranslator, type Language, type Params } from "../../../../shared/src/i18n";

export const notificationsPt = {
  "notifications.title": "Notificações",
  "notifications.language": "Idioma das mensagens",
  "notifications.events": "O que receber",
  "notifications.event.sessionStarted": "Glimpse começou a operar",
  "notifications.event.sessionStopped": "Glimpse parou (com o motivo)",
  "notifications.event.cycleResult": "Resultado de cada ciclo",
  "notifications.event.stopLoss": "Stop loss atingido",
  "notifications.event.stopWin": "Stop win atingido",
  "notifications.event.dailySummary": "Resumo diário",
  "notifications.telegram": "Telegram",
  "notifications.telegramOff": "O Telegram não está configurado neste servidor.",
  "notifications.linked": "Ligado ao chat {chat}",
  "notifications.notLinked": "Nenhum chat ligado.",
  "notifications.link": "Ligar o Telegram",
  "notifications.linkSteps": "Abra o bot @{bot} no Telegram e envie a mensagem abaixo em até 15 minutos:",
  "notifications.openBot": "Abrir o bot",
  "notifications.checkLink": "Já enviei",
  "notifications.unlink": "Desligar",
  "notifications.test": "Enviar teste",
  "notifications.testQueued": "Mensagem de teste enviada.",
  "notifications.webhooks": "Webhooks",
  "notifications.webhookHint": "Cada evento é enviado por POST em JSON, assinado com HMAC-SHA256 (cabeçalho X-Glimpse-Signature).",
  "notifications.webhookUrl": "URL (https://)",
  "notifications.addWebhook": "Adicionar",
  "notifications.secretOnce": "Guarde este segredo agora: ele não será mostrado de novo.",
  "notifications.delete": "Excluir",
  "notifications.none": "Nenhum webhook.",
  "notifications.saved": "Salvo.",
};

export type NotificationsKey = keyof typeof notificationsPt;

export const notificationsEn: Record<NotificationsKey, string> = {
  "notifications.title": "Notifications",
  "notifications.language": "Message language",
  "notifications.events": "What to receive",
  "notifications.event.sessionStarted": "Glimpse started trading",
  "notifications.event.sessionStopped": "Glimpse stopped (with the reason)",
  "notifications.event.cycleResult": "Each cycle's result",
  "notifications.event.stopLoss": "Stop loss reached",
  "notifications.event.stopWin": "Stop win reached",
  "notifications.event.dailySummary": "Daily summary",
  "notifications.telegram": "Telegram",
  "notifications.telegramOff": "Telegram is not configured on this server.",
  "notifications.linked": "Linked to chat {chat}",
  "notifications.notLinked": "No chat linked.",
  "notifications.link": "Link Telegram",
  "notifications.linkSteps": "Open the bot @{bot} in Telegram and send the message below within 15 minutes:",
  "notifications.openBot": "Open the bot",
  "notifications.checkLink": "I sent it",
  "notifications.unlink": "Unlink",
  "notifications.test": "Send a test",
  "notifications.testQueued": "Test message sent.",
  "notifications.webhooks": "Webhooks",
  "notifications.webhookHint": "Every event is POSTed as JSON, signed with HMAC-SHA256 (header X-Glimpse-Signature).",
  "notifications.webhookUrl": "URL (https://)",
  "notifications.addWebhook": "Add",
  "notifications.secretOnce": "Keep this secret now: it will not be shown again.",
  "notifications.delete": "Delete",
  "notifications.none": "No webhooks.",
  "notifications.saved": "Saved.",
};

const translate = createTranslator<NotificationsKey>({ "pt-BR": notificationsPt, en: notificationsEn });

export function notificationsText(language: Language, key: NotificationsKey, params?: Params): string {
  return translate(language, key, params);
}
