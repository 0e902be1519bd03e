// The signed-in account as last read from `status`, shared by every page of
// the home shell. The dashboard refreshes it once per second; other pages
// refresh it after they write.

import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";
import { api, type Account, type OpenPair, type StatusAnswer } from "../api";

export const DEFAULT_MARKET_TZ = "America/Sao_Paulo";

interface AccountState {
  account: Account | null;
  openPairs: OpenPair[];
  serverTime: number; // the market clock (it runs fast in demo bundles)
  maintenance: boolean;
  marketTz: string;
}

interface AccountApi extends AccountState {
  refresh: () => Promise<StatusAnswer>;
  patch: (changes: Partial<Account>) => void;
}

const AccountContext = createContext<AccountApi | null>(null);

export function AccountProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AccountState>({
    account: null,
    openPairs: [],
    serverTime: 0,
    maintenance: false,
    marketTz: DEFAULT_MARKET_TZ,
  });
  const inFlight = useRef<Promise<StatusAnswer> | null>(null);

  const refresh = useCallback(() => {
    // concurrent callers share one request
    if (!inFlight.current) {
      inFlight.current = api
        .status()
        .then((answer) => {
          setState({
            account: answer.user,
            openPairs: answer.ativos ?? [],
            serverTime: answer.serverTime,
            maintenance: answer.maintenance === true,
            marketTz: answer.tz || DEFAULT_MARKET_TZ,
          });
          return answer;
        })
        .finally(() => {
          inFlight.current = null;
        });
    }
    return inFlight.current;
  }, []);

  const patch = useCallback((changes: Partial<Account>) => {
    setState((s) => (s.account ? { ...s, account: { ...s.account, ...changes } } : s));
  }, []);

  const value = useMemo(() => ({ ...state, refresh, patch }), [state, refresh, patch]);
  return <AccountContext.Provider value={value}>{children}</AccountContext.Provider>;
}

export function useAccount(): AccountApi {
  const value = useContext(AccountContext);
  if (!value) throw new Error("useAccount outside AccountProvider");
  return value;
}
