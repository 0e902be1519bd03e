import { IonButton, IonContent, IonPage } from "@ionic/react";
import { Suspense, lazy, useEffect, useState, type ReactNode } from "react";
import { useParams } from "react-router-dom";
import Loading from "../../components/Loading";
import { preloadLater } from "../../components/ionic/deferred";
import { useI18n } from "../../i18n/I18nProvider";
import { AccountProvider, useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useLogout } from "../../session/useLogout";
import GlimpsePage from "../glimpse/GlimpsePage";
import MaintenancePage from "../maintenance/MaintenancePage";

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
// The side menu (and the Ionic components only it and later pages use) after the first screen: on a
// phone's CPU, compiling and rendering it held the Start button back.
const SideMenu = lazy(() => import("./SideMenu"));
// Shown once, to a trader who has not accepted the terms yet: its code (and the HTML sanitizer's)
// stays off the dashboard's first chunks.
const TermsOverlay = lazy(() => import("./TermsOverlay"));

/** True from the frame after the first screen was painted. */
function useAfterFirstPaint(ready: boolean): boolean {
  const [after, setAfter] = useState(false);
  useEffect(() => {
    if (!ready || after) return;
    let timer = 0;
    const frame = requestAnimationFrame(() => {
      timer = window.setTimeout(() => setAfter(true));
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }, [ready, after]);
  return after;
}

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

  const menu = useAfterFirstPaint(account !== null || maintenance || error !== "");
  useEffect(() => {
    // The overlays, checkbox and radios (components/ionic/deferred.tsx) ready before their first use.
    if (menu) void preloadLater();
  }, [menu]);

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
      {menu && (
        <Suspense fallback={null}>
          <SideMenu current={section} />
        </Suspense>
      )}
      <IonPage id="home-content">{body}</IonPage>
      {account && !account.readTerms && !maintenance && (
        <Suspense fallback={null}>
          <TermsOverlay />
        </Suspense>
      )}
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
