import { IonCard, IonCardContent, IonCardHeader, IonCardSubtitle, IonCardTitle } from "@ionic/react";
import { useState } from "react";
import { api, type Alert } from "../../api";
import PageFrame from "../../components/PageFrame";
import { useI18n } from "../../i18n/I18nProvider";
import { formatDateTime } from "../../lib/format";
import { PullToRefresh } from "../../lib/loaded";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useToast } from "../../session/useToast";

const byNewest = (a: Alert, b: Alert) => Number.parseFloat(b.time) - Number.parseFloat(a.time);

/** The alerts, newest first: tap to read the description (and mark it read); pull to refresh. */
export default function AlertsPage() {
  const { t, language } = useI18n();
  const toast = useToast();
  const { account, refresh, patch } = useAccount();
  const [expanded, setExpanded] = useState<string | null>(null);
  if (!account) return null;
  const alerts = (account.alerts ?? []).filter((a) => a && a.time).sort(byNewest);

  async function open(alert: Alert) {
    setExpanded(expanded === alert.time ? null : alert.time);
    if (alert.read) return;
    try {
      await api.set("alerts", [{ time: alert.time, read: true }]);
      patch({ alerts: account!.alerts.map((a) => (a.time === alert.time ? { ...a, read: true } : a)) });
    } catch (e) {
      toast(describeError(e, t), "danger");
    }
  }

  return (
    <PageFrame
      title={t("alerts.title")}
      panel
      fixed={<PullToRefresh onRefresh={() => refresh().catch((err) => toast(describeError(err, t), "danger"))} />}
    >
      {alerts.length === 0 && <p className="empty">{t("alerts.empty")}</p>}
      {alerts.map((a) => (
        <IonCard
          key={a.time}
          button
          className={`alert-card ${a.type}${a.read ? "" : " unread"}`}
          onClick={() => void open(a)}
          data-testid="alert-card"
        >
          <IonCardHeader>
            <IonCardTitle>{a.title}</IonCardTitle>
            <IonCardSubtitle>{formatDateTime(Number.parseFloat(a.time), language)}</IonCardSubtitle>
          </IonCardHeader>
          {expanded === a.time && <IonCardContent>{a.description}</IonCardContent>}
        </IonCard>
      ))}
    </PageFrame>
  );
}
