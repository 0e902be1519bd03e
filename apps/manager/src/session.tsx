import { useIonToast } from "@ionic/react";
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { ApiError, api, clearToken, getToken, type Role } from "./api";
import { useI18n } from "./i18n/I18nProvider";

interface Me {
  user: string;
  name: string;
  rol: Role;
}

interface Session {
  me: Me | null;
  isAdmin: boolean;
  refresh: () => Promise<void>;
  logout: () => Promise<void>;
  /** Runs a manager action and tells how it went; refusals (403: the role) and errors show as a toast. */
  act: <T>(action: () => Promise<T>, done?: string) => Promise<T | null>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [present] = useIonToast();
  const { t } = useI18n();

  const refresh = useCallback(async () => {
    if (!getToken()) {
      setMe(null);
      return;
    }
    setMe(await api.me());
  }, []);

  useEffect(() => {
    refresh().catch(() => setMe(null));
  }, [refresh]);

  const logout = useCallback(async () => {
    await api.logout().catch(() => undefined);
    clearToken();
    setMe(null);
  }, []);

  const act = useCallback(
    async <T,>(action: () => Promise<T>, done?: string): Promise<T | null> => {
      try {
        const result = await action();
        const unchanged = typeof result === "object" && result !== null && (result as { res?: number }).res === 0;
        if (unchanged) void present({ message: t("toast.unchanged"), duration: 2500, color: "warning" });
        else if (done) void present({ message: done, duration: 2000, color: "success" });
        return result;
      } catch (error) {
        const message =
          error instanceof ApiError && error.status === 403
            ? t("toast.forbidden", { reason: error.message.includes("admin role") ? t("toast.adminOnly") : error.message })
            : error instanceof ApiError
              ? error.message
              : t("toast.error");
        void present({ message, duration: 4000, color: "danger", cssClass: "toast-error" });
        return null;
      }
    },
    [present, t],
  );

  return (
    <SessionContext.Provider value={{ me, isAdmin: me?.rol === "admin", refresh, logout, act }}>{children}</SessionContext.Provider>
  );
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
