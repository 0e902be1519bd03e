import { IonApp } from "@ionic/react";
import { Suspense, lazy, useEffect } from "react";
import { BrowserRouter, Redirect, Route, Switch, useHistory } from "react-router-dom";
import { getToken, onUnauthorized } from "./api";
import { I18nProvider, useI18n } from "./i18n/I18nProvider";
import Loading from "./components/Loading";
import { useToast } from "./session/useToast";

// Signed in or not, the first screen loads only its own code.
const HomePage = lazy(() => import("./pages/home/HomePage"));
const LoginPage = lazy(() => import("./pages/login/LoginPage"));

/** A 401 anywhere (expired or revoked token): back to the login page. */
function UnauthorizedHandler() {
  const history = useHistory();
  const toast = useToast();
  const { t } = useI18n();
  useEffect(() => {
    onUnauthorized(() => {
      history.replace("/login");
      toast(t("error.session"), "danger");
    });
  }, [history, toast, t]);
  return null;
}

function RequireToken({ children }: { children: JSX.Element }) {
  return getToken() ? children : <Redirect to="/login" />;
}

export default function App() {
  return (
    <I18nProvider>
      <IonApp>
        <BrowserRouter>
          <UnauthorizedHandler />
          <Suspense fallback={<Loading />}>
          <Switch>
            <Route path="/login" component={LoginPage} />
            <Route path="/home/:section?">
              <RequireToken>
                <HomePage />
              </RequireToken>
            </Route>
            <Route>{() => <Redirect to={getToken() ? "/home" : "/login"} />}</Route>
          </Switch>
          </Suspense>
        </BrowserRouter>
      </IonApp>
    </I18nProvider>
  );
}
