// The signed-in account as last read from `status`, shared by every page of
// the home shell. The dashboard refreshes it once per second; other pages
// refresh it after they write.

import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";
import { api, type Account, type OpenPair, type StatusAnswer } from "../api";
import { takeEarlyStatus } from "./earlyStatus";

export const DEFAULT_MARKET_TZ = "America/Sao_Paulo";
const SERVER_TIME_HEADER = "X-Glimpse-Server-Time";

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
  // The last full answer and its validator: a poll where nothing changed gets a bodiless 304.
  const last = useRef<{ answer: StatusAnswer; etag: string | null } | null>(null);

  const refresh = useCallback(() => {
    // concurrent callers share one request
    if (!inFlight.current) {
      const held = last.current;
      inFlight.current = (takeEarlyStatus() ?? api.statusSince(held?.etag ?? null))
        .then((reply) => {
          if (reply.notModified && held) {
            // Only the clock moved: it comes in a header.
            const time = Number(reply.headers.get(SERVER_TIME_HEADER));
            const answer = { ...held.answer, serverTime: Number.isFinite(time) ? time : held.answer.serverTime };
            last.current = { answer, etag: held.etag };
            setState((s) => ({ ...s, serverTime: answer.serverTime }));
            return answer;
          }
          const answer = reply.data as StatusAnswer;
          last.current = { answer, etag: reply.etag };
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
    // The next poll brings the whole answer again, so the server's word replaces the local patch.
    last.current = null;
  }, []);

  const value = useMemo(() => ({ ...state, refresh, patch }), [state, refresh, patch]);
  return <AccountContext.Provider value={value}>{children}</AccountContext.Provider>;
}

export function useAccount(): AccountApi {
  const value = useContext(AccountContext);
  if (!value) throw new Error("useAccount outside AccountProvider");
  return value;
}
