import { IonButton, IonContent } from "@ionic/react";
import { useEffect } from "react";
import Logo from "../../components/Logo";
import { useI18n } from "../../i18n/I18nProvider";
import { useAccount } from "../../session/AccountProvider";
import { useLogout } from "../../session/useLogout";

const CHECK_EVERY_MS = 15_000;

/** Shown instead of every page while Auxiliar.Maintenance is on; it checks back now and then. */
export default function MaintenancePage() {
  const { t } = useI18n();
  const { refresh } = useAccount();
  const logout = useLogout();

  useEffect(() => {
    const timer = window.setInterval(() => refresh().catch(() => undefined), CHECK_EVERY_MS);
    return () => window.clearInterval(timer);
  }, [refresh]);

  return (
    <IonContent className="ion-padding maintenance">
      <div className="centered">
        <Logo size={96} />
        <h2>{t("maintenance.title")}</h2>
        <p>{t("maintenance.text")}</p>
        <IonButton fill="clear" onClick={() => void logout()}>
          {t("menu.logout")}
        </IonButton>
      </div>
    </IonContent>
  );
}
