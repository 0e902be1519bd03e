import {
  IonButton,
  IonContent,
  IonHeader,
  IonIcon,
  IonItem,
  IonLabel,
  IonList,
  IonMenu,
  IonMenuToggle,
  IonPage,
  IonTitle,
  IonToolbar,
} from "@ionic/react";
import { analyticsOutline, copyOutline, eyeOutline, listOutline, logOutOutline, settingsOutline, trophyOutline } from "ionicons/icons";
import { Suspense, lazy, useEffect, useState, type ReactNode } from "react";
import { useHistory, useParams } from "react-router-dom";
import LanguageSwitch from "../../components/LanguageSwitch";
import Loading from "../../components/Loading";
import type { MessageKey } from "../../i18n/core";
import { useI18n } from "../../i18n/I18nProvider";
import { AccountProvider, useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useLogout } from "../../session/useLogout";
import GlimpsePage from "../glimpse/GlimpsePage";
import MaintenancePage from "../maintenance/MaintenancePage";
import TermsOverlay from "./TermsOverlay";

const AlertsPage = lazy(() => import("../alerts/AlertsPage"));
const BrokerPage = lazy(() => import("../broker/BrokerPage"));
const CatalogPage = lazy(() => import("../catalog/CatalogPage"));
const CopyPage = lazy(() => import("../copy/CopyPage"));
const OperationsPage = lazy(() => import("../operations/OperationsPage"));
const OrderOptionsPage = lazy(() => import("../orderOptions/OrderOptionsPage"));
const PairsPage = lazy(() => import("../pairs/PairsPage"));
const PayoutPage = lazy(() => import("../payout/PayoutPage"));
const RankPage = lazy(() => import("../rank/RankPage"));
const SettingsPage = lazy(() => import("../settings/SettingsPage"));
const NotificationsPage = lazy(() => import("../settings/NotificationsPage"));
const SignalsPage = lazy(() => import("../signals/SignalsPage"));
// The dashboard comes with the shell; every other page is its own chunk, fetched when opened.
const StrategiesPage = lazy(() => import("../strategies/StrategiesPage"));
export const APP_VERSION = "1.0";

const SECTIONS: Record<string, () => ReactNode> = {
  glimpse: () => <GlimpsePage />,
  operations: () => <OperationsPage />,
  rank: () => <RankPage />,
  settings: () => <SettingsPage />,
  notifications: () => <NotificationsPage />,
  broker: () => <BrokerPage />,
  payout: () => <PayoutPage />,
  pairs: () => <PairsPage />,
  "order-options": () => <OrderOptionsPage />,
  strategies: () => <StrategiesPage />,
  signals: () => <SignalsPage />,
  alerts: () => <AlertsPage />,
  copy: () => <CopyPage />,
  catalog: () => <CatalogPage />,
};

const MENU: { section: string; label: MessageKey; icon: string }[] = [
  { section: "glimpse", label: "menu.glimpse", icon: eyeOutline },
  { section: "operations", label: "menu.operations", icon: listOutline },
  { section: "rank", label: "menu.rank", icon: trophyOutline },
  { section: "copy", label: "menu.copy", icon: copyOutline },
  { section: "catalog", label: "menu.catalog", icon: analyticsOutline },
  { section: "settings", label: "menu.settings", icon: settingsOutline },
];

function SideMenu({ current }: { current: string }) {
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

function HomeShell() {
  const { section = "glimpse" } = useParams<{ section?: string }>();
  const { account, maintenance, refresh } = useAccount();
  const { t } = useI18n();
  const logout = useLogout();
  const [error, setError] = useState("");

  useEffect(() => {
    refresh().catch((e) => setError(describeError(e, t)));
    // the first load only; pages refresh on their own
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const render = SECTIONS[section] ?? SECTIONS.glimpse;
  let body: ReactNode;
  if (maintenance) body = <MaintenancePage />;
  else if (account) body = <Suspense fallback={<Loading />}>{render()}</Suspense>;
  else if (error)
    body = (
      <IonContent className="ion-padding">
        <p role="alert">{error}</p>
        <IonButton onClick={() => refresh().then(() => setError("")).catch((e) => setError(describeError(e, t)))}>
          {t("common.retry")}
        </IonButton>
        <IonButton fill="clear" onClick={() => void logout()}>
          {t("menu.logout")}
        </IonButton>
      </IonContent>
    );
  else body = <Loading />;

  return (
    <>
      <SideMenu current={section} />
      <IonPage id="home-content">{body}</IonPage>
      {account && !account.readTerms && !maintenance && <TermsOverlay />}
    </>
  );
}

export default function HomePage() {
  return (
    <AccountProvider>
      <HomeShell />
    </AccountProvider>
  );
}
