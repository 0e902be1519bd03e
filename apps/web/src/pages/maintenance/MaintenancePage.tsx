import { IonButton, IonContent } from "@ionic/react";
import { useCallback, useEffect, useState } from "react";
import type { StatusAnswer } from "../../api";
import Logo from "../../components/Logo";
import { useI18n } from "../../i18n/I18nProvider";
import { useAccount } from "../../session/AccountProvider";
import { useLogout } from "../../session/useLogout";

const CHECK_EVERY_MS = 15_000;

// The page's own words for the manager's note; the note itself is shown as the manager wrote it.
const NOTE_LABEL = { "pt-BR": "Aviso da equipe", en: "A note from the team" } as const;

/** `status` names the manager's message (setMaintenance) while maintenance is on. */
function messageOf(answer: StatusAnswer): string {
  const message = (answer as StatusAnswer & { maintenanceMessage?: unknown }).maintenanceMessage;
  return typeof message === "string" ? message.trim() : "";
}

/** Shown instead of every page while Auxiliar.Maintenance is on; it checks back now and then. */
export default function MaintenancePage() {
  const { t, language } = useI18n();
  const { refresh } = useAccount();
  const logout = useLogout();
  const [message, setMessage] = useState("");

  const check = useCallback(
    () =>
      refresh()
        .then((answer) => setMessage(messageOf(answer)))
        .catch(() => undefined),
    [refresh],
  );

  useEffect(() => {
    void check();
    const timer = window.setInterval(() => void check(), CHECK_EVERY_MS);
    return () => window.clearInterval(timer);
  }, [check]);

  return (
    <IonContent className="ion-padding maintenance">
      <div className="centered">
        <Logo size={96} />
        <h2>{t("maintenance.title")}</h2>
        <p>{t("maintenance.text")}</p>
        {message && (
          <section
            className="maintenance-message"
            data-testid="maintenance-note"
            aria-label={NOTE_LABEL[language]}
          >
            <strong>{NOTE_LABEL[language]}</strong>
            <p>{message}</p>
          </section>
        )}
        <IonButton fill="clear" onClick={() => void logout()}>
          {t("menu.logout")}
        </IonButton>
      </div>
    </IonContent>
  );
}
