import { IonButton, IonCard, IonCardContent, IonIcon, IonModal } from "@ionic/react";
import { settingsOutline } from "ionicons/icons";
import { useHistory } from "react-router-dom";
import type { Account } from "../../api";
import { useI18n } from "../../i18n/I18nProvider";

interface Props {
  open: boolean;
  account: Account;
  onChoose: (mode: "strategy" | "signals") => void;
  onClose: () => void;
}

/** The mode selector: strategies, a signal list, or copy (chosen on the Copy page). */
export default function ModeSheet({ open, account, onChoose, onClose }: Props) {
  const { t } = useI18n();
  const history = useHistory();
  const goTo = (section: string) => {
    onClose();
    history.push(`/home/${section}`);
  };
  return (
    <IonModal isOpen={open} onDidDismiss={onClose} initialBreakpoint={0.6} breakpoints={[0, 0.6, 0.9]}>
      <div className="ion-padding mode-sheet">
        <h3>{t("mode.title")}</h3>
        {(["strategy", "signals"] as const).map((mode) => (
          <IonCard
            key={mode}
            button
            className={account.mode === mode ? "selected" : undefined}
            onClick={() => onChoose(mode)}
            data-testid={`mode-${mode}`}
          >
            <IonCardContent className="mode-card">
              <div>
                <strong>{mode === "strategy" ? t("mode.strategy") : t("mode.signals")}</strong>
                <p>{mode === "strategy" ? account.strategy || "-" : t("mode.signalsHint")}</p>
              </div>
              <IonButton
                fill="clear"
                aria-label={t("mode.configure")}
                onClick={(e) => {
                  e.stopPropagation();
                  goTo(mode === "strategy" ? "strategies" : "signals");
                }}
              >
                <IonIcon aria-hidden="true" icon={settingsOutline} />
              </IonButton>
            </IonCardContent>
          </IonCard>
        ))}
        {/* Copy needs a leader first: the Copy page chooses one and switches the mode there. */}
        <IonCard
          button
          className={account.mode === "copy" ? "selected" : undefined}
          onClick={() => goTo("copy")}
          data-testid="mode-copy"
        >
          <IonCardContent>
            <strong>{t("mode.copy")}</strong>
            <p>{t("mode.copyHint")}</p>
          </IonCardContent>
        </IonCard>
        <IonButton expand="block" onClick={onClose}>
          OK
        </IonButton>
      </div>
    </IonModal>
  );
}
