import { IonButton, IonCard, IonCardContent } from "@ionic/react";
import { useI18n } from "../../i18n/I18nProvider";
import { formatSignedMoney, resultClass } from "../../lib/format";
import type { SessionSummary } from "../../lib/sessionSummary";

/** Shown when a session ends: orders, wins, losses, net, and why it stopped. */
export default function SessionSummaryCard({ summary, reason, onClose }: { summary: SessionSummary; reason: string; onClose: () => void }) {
  const { t, language } = useI18n();
  return (
    <IonCard className="session-summary" data-testid="session-summary">
      <IonCardContent>
        <h2>{t("summary.title")}</h2>
        <p>
          {t("summary.counts", { n: summary.orders, w: summary.wins, l: summary.losses, d: summary.dojis })}
        </p>
        <p>
          {t("summary.net")}:{" "}
          <strong className={resultClass(summary.net)} data-testid="summary-net">
            {formatSignedMoney(summary.net, language)}
          </strong>
        </p>
        {reason && <p data-testid="summary-reason">{t("summary.why", { reason })}</p>}
        <IonButton fill="clear" size="small" onClick={onClose}>
          {t("common.close")}
        </IonButton>
      </IonCardContent>
    </IonCard>
  );
}
