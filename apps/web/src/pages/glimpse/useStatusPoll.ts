import { useEffect, useRef } from "react";
import { api, lastRequestStartedAt } from "../../api";
import { useAccount } from "../../session/AccountProvider";

export const POLL_GAP_MS = 1000;
/** While the bot is off nothing moves but the odd alert: a poll every 3 s (a third of the bytes an hour). */
export const IDLE_POLL_GAP_MS = 3000;

/** The gap between two polls for a glimpseStatus: a second while the bot is on its way or trading. */
export function pollGap(status: string | undefined): number {
  return status === "off" || status === undefined ? IDLE_POLL_GAP_MS : POLL_GAP_MS;
}

/**
 * The dashboard's only automatic traffic: one request per second at most (every 3 s while the bot is off).
 * Each tick sends either the pending alert flags or the `status` call, and
 * never starts within a second of the previous request (the user's own
 * clicks included). Hidden tabs do not poll.
 */
export function useStatusPoll(onError: (error: unknown) => void) {
  const { refresh, account } = useAccount();
  const gap = useRef(POLL_GAP_MS);
  gap.current = pollGap(account?.glimpseStatus);
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
      schedule(gap.current);
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
