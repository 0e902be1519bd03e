import { IonApp, IonContent, IonItem, IonLabel, IonList, IonMenu, IonMenuToggle, IonPage, IonSplitPane, useIonToast } from "@ionic/react";
import { useEffect } from "react";
import { BrowserRouter, Redirect, Route, Switch, useHistory, useLocation } from "react-router-dom";
import { getToken, onUnauthorized } from "./api";
import LanguageSwitch from "./components/LanguageSwitch";
import { I18nProvider, useI18n } from "./i18n/I18nProvider";
import type { MessageKey } from "./i18n/pt";
import AuditPage from "./pages/AuditPage";
import CatalogPage from "./pages/CatalogPage";
import CodesPage from "./pages/CodesPage";
import LoginPage from "./pages/LoginPage";
import ManagersPage from "./pages/ManagersPage";
import OverviewPage from "./pages/OverviewPage";
import ServersPage from "./pages/ServersPage";
import SettingsPage from "./pages/SettingsPage";
import StrategiesPage from "./pages/StrategiesPage";
import SupportPage from "./pages/SupportPage";
import TradesPage from "./pages/TradesPage";
import UserDetailPage from "./pages/UserDetailPage";
import UsersPage from "./pages/UsersPage";
import { SessionProvider, useSession } from "./session";

const SECTIONS: [string, MessageKey][] = [
  ["/overview", "menu.overview"],
  ["/users", "menu.users"],
  ["/trades", "menu.trades"],
  ["/codes", "menu.codes"],
  ["/strategies", "menu.strategies"],
  ["/catalog", "menu.catalog"],
  ["/servers", "menu.servers"],
  ["/support", "menu.support"],
  ["/audit", "menu.audit"],
  ["/settings", "menu.settings"],
  ["/managers", "menu.managers"],
];

/** A 401 anywhere (expired or revoked token): back to the login page. */
function UnauthorizedHandler() {
  const history = useHistory();
  const [present] = useIonToast();
  const { t } = useI18n();
  useEffect(() => {
    onUnauthorized(() => {
      history.replace("/login");
      void present({ message: t("toast.session"), duration: 3000, color: "danger" });
    });
  }, [history, present, t]);
  return null;
}

function Menu() {
  const { t } = useI18n();
  const { me, logout } = useSession();
  const location = useLocation();
  const history = useHistory();
  return (
    <IonMenu contentId="main" type="overlay">
      <IonContent>
        <div className="menu-head">
          <strong>Glimpse</strong> <span className="badge">{t("app.manager")}</span>
          {me && <p data-testid="me">{me.name} · {t(me.rol === "admin" ? "role.admin" : "role.support")}</p>}
        </div>
        <IonList>
          {SECTIONS.map(([path, key]) => (
            <IonMenuToggle key={path} autoHide={false}>
              <IonItem routerLink={path} routerDirection="root" lines="none" detail={false} className={location.pathname.startsWith(path) ? "selected" : ""} data-testid={`menu-${path.slice(1)}`}
                onClick={(e) => { e.preventDefault(); history.push(path); }} href={`/manager${path}`}>
                <IonLabel>{t(key)}</IonLabel>
              </IonItem>
            </IonMenuToggle>
          ))}
          <IonItem button lines="none" onClick={() => void logout().then(() => history.replace("/login"))} data-testid="logout">
            <IonLabel>{t("menu.logout")}</IonLabel>
          </IonItem>
        </IonList>
        <div className="menu-foot"><LanguageSwitch /></div>
      </IonContent>
    </IonMenu>
  );
}

function Shell() {
  return (
    <IonSplitPane contentId="main" when="md">
      <Menu />
      <IonPage id="main">
        <Switch>
          <Route path="/overview" component={OverviewPage} />
          <Route path="/users/:id" component={UserDetailPage} />
          <Route path="/users" component={UsersPage} />
          <Route path="/trades" component={TradesPage} />
          <Route path="/codes" component={CodesPage} />
          <Route path="/strategies" component={StrategiesPage} />
          <Route path="/catalog" component={CatalogPage} />
          <Route path="/servers" component={ServersPage} />
          <Route path="/support" component={SupportPage} />
          <Route path="/audit" component={AuditPage} />
          <Route path="/settings" component={SettingsPage} />
          <Route path="/managers" component={ManagersPage} />
          <Route><Redirect to="/overview" /></Route>
        </Switch>
      </IonPage>
    </IonSplitPane>
  );
}

export default function App() {
  return (
    <I18nProvider>
      <IonApp>
        <BrowserRouter basename="/manager">
          <SessionProvider>
            <UnauthorizedHandler />
            <Switch>
              <Route path="/login" component={LoginPage} />
              <Route>{() => (getToken() ? <Shell /> : <Redirect to="/login" />)}</Route>
            </Switch>
          </SessionProvider>
        </BrowserRouter>
      </IonApp>
    </I18nProvider>
  );
}
