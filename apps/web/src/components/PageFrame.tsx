import { IonButton, IonButtons, IonContent, IonHeader, IonIcon, IonMenuButton, IonTitle, IonToolbar } from "@ionic/react";
import { chevronBackOutline } from "ionicons/icons";
import type { ReactNode } from "react";
import { useHistory } from "react-router-dom";
import { useI18n } from "../i18n/I18nProvider";

interface Props {
  title: string;
  /** Panels opened from the dashboard have "< Home" instead of the menu button. */
  panel?: boolean;
  actions?: ReactNode;
  children: ReactNode;
  padded?: boolean;
  fixed?: ReactNode; // outside the scrolling area (refreshers, fabs)
}

export default function PageFrame({ title, panel, actions, children, padded = true, fixed }: Props) {
  const { t } = useI18n();
  const history = useHistory();
  return (
    <>
      <IonHeader>
        <IonToolbar color="primary">
          <IonButtons slot="start">
            {panel ? (
              <IonButton onClick={() => history.push("/home")} data-testid="back-home">
                <IonIcon aria-hidden="true" slot="start" icon={chevronBackOutline} />
                {t("menu.home")}
              </IonButton>
            ) : (
              <IonMenuButton />
            )}
          </IonButtons>
          <IonTitle>{title}</IonTitle>
          {actions && <IonButtons slot="end">{actions}</IonButtons>}
        </IonToolbar>
      </IonHeader>
      <IonContent className={padded ? "ion-padding" : undefined}>
        {fixed}
        {children}
      </IonContent>
    </>
  );
}
