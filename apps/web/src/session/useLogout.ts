import { useCallback } from "react";
import { useHistory } from "react-router-dom";
import { api, clearToken } from "../api";

/** End the session on the server (best effort), forget the token, go to the login page. */
export function useLogout() {
  const history = useHistory();
  return useCallback(async () => {
    try {
      await api.logout();
    } catch {
      // the token is dropped anyway; an expired one cannot be used again
    }
    clearToken();
    history.replace("/login");
  }, [history]);
}
