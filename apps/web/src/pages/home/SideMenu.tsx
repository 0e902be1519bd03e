import { IonContent, IonHeader, IonIcon, IonItem, IonLabel, IonList, IonTitle, IonToolbar } from "@ionic/react";
import { analyticsOutline, copyOutline, eyeOutline, listOutline, logOutOutline, settingsOutline, trophyOutline } from "ionicons/icons";
import { useHistory } from "react-router-dom";
import LanguageSwitch from "../../components/LanguageSwitch";
import { IonMenu, IonMenuToggle } from "../../components/ionic/later";
import type { MessageKey } from "../../i18n/core";
import { useI18n } from "../../i18n/I18nProvider";
import { useLogout } from "../../session/useLogout";
import { APP_VERSION } from "./version";

const MENU: { section: string; label: MessageKey; icon: string }[] = [
  { section: "glimpse", label: "menu.glimpse", icon: eyeOutline },
  { section: "operations", label: "menu.operations", icon: listOutline },
  { section: "rank", label: "menu.rank", icon: trophyOutline },
  { section: "copy", label: "menu.copy", icon: copyOutline },
  { section: "catalog", label: "menu.catalog", icon: analyticsOutline },
  { section: "settings", label: "menu.settings", icon: settingsOutline },
];

export default function SideMenu({ current }: { current: string }) {
  const { t } = useI18n();
  const history = useHistory();
  const logout = useLogout();
  return (
    <IonMenu contentId="home-content" type="overlay">
      <IonHeader>
        <IonToolbar color="primary">
          <IonTitle>Glimpse</IonTitle>
        </IonToolbar>
      </IonHeader>
      <IonContent>
        <IonList lines="none">
          {MENU.map((item) => (
            <IonMenuToggle key={item.section} autoHide={false}>
              <IonItem
                button
                detail={false}
                className={current === item.section ? "selected" : undefined}
                onClick={() => history.push(item.section === "glimpse" ? "/home" : `/home/${item.section}`)}
              >
                <IonIcon aria-hidden="true" slot="start" icon={item.icon} />
                <IonLabel>{t(item.label)}</IonLabel>
              </IonItem>
            </IonMenuToggle>
          ))}
          <IonMenuToggle autoHide={false}>
            <IonItem button detail={false} onClick={() => void logout()}>
              <IonIcon aria-hidden="true" slot="start" icon={logOutOutline} />
              <IonLabel>{t("menu.logout")}</IonLabel>
            </IonItem>
          </IonMenuToggle>
        </IonList>
        <div className="menu-footer">
          <LanguageSwitch />
          <p className="version">
            {t("menu.version")} {APP_VERSION}
          </p>
        </div>
      </IonContent>
    </IonMenu>
  );
}

