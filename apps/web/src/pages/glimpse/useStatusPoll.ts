import { useEffect, useRef } from "react";
import { api, lastRequestStartedAt } from "../../api";
import { useAccount } from "../../session/AccountProvider";

export const POLL_GAP_MS = 1000;

/**
 * The dashboard's only automatic traffic: one request per second at most.
 * Each tick sends either the pending alert flags or the `status` call, and
 * never starts within a second of the previous request (the user's own
 * clicks included). Hidden tabs do not poll.
 */
export function useStatusPoll(onError: (error: unknown) => void) {
  const { refresh } = useAccount();
  const pendingShown = useRef<string[]>([]);
  const errorHandler = useRef(onError);
  errorHandler.current = onError;

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const schedule = (ms: number) => {
      if (!stopped) timer = window.setTimeout(tick, ms);
    };
    async function tick() {
      if (stopped) return;
      const wait = POLL_GAP_MS - (Date.now() - lastRequestStartedAt());
      if (wait > 0) return schedule(wait);
      if (document.hidden) return schedule(POLL_GAP_MS);
      try {
        if (pendingShown.current.length) {
          const times = pendingShown.current.splice(0);
          await api.set("alerts", times.map((time) => ({ time, shown: true })));
        } else {
          await refresh();
        }
      } catch (error) {
        errorHandler.current(error);
      }
      schedule(POLL_GAP_MS);
    }
    void tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [refresh]);

  /** Queue "shown" flags for alerts whose banner appeared (sent on the next tick). */
  return (times: string[]) => {
    for (const time of times) if (!pendingShown.current.includes(time)) pendingShown.current.push(time);
  };
}
