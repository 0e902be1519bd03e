// The dashboard's live state: the button for each glimpseStatus and the
// progress of each order (try) of the cycle in flight.

export type GlimpseStatus = "off" | "waiting" | "assigning" | "operating" | "stopping";

export interface Try {
  start: string | number; // epoch seconds when the order was placed; 0 before
  result?: string;
}

export const ORDER_SECONDS = 60;

/** How far a 1-minute order has run at `now` (0..1); 0 until it is placed. */
export function tryProgress(t: Try, now: number): number {
  const start = typeof t.start === "string" ? Number.parseFloat(t.start) : t.start;
  if (!start || !Number.isFinite(start)) return 0;
  return Math.min(1, Math.max(0, (now - start) / ORDER_SECONDS));
}

export type ButtonState = "start" | "stop" | "busy-stop" | "busy";

/**
 * off: Start. operating: Stop. waiting/assigning: a spinner, and Stop still
 * works (the API accepts stopping from them). stopping: a spinner until off.
 */
export function buttonState(status: string | undefined): ButtonState {
  switch (status) {
    case "off":
    case undefined:
      return "start";
    case "operating":
      return "stop";
    case "waiting":
    case "assigning":
      return "busy-stop";
    default:
      return "busy";
  }
}

/** The blocks (broker, payout...) can be opened only while the bot is off. */
export function canConfigure(status: string | undefined): boolean {
  return status === "off" || status === undefined;
}

export interface StartCheck {
  mode?: string;
  strategy?: string;
  iqConnected?: boolean;
}

/** Why Start would be refused, checked before asking the server (which checks again). */
export function startProblem(account: StartCheck): "noStrategy" | "noBroker" | null {
  if ((account.mode ?? "strategy") === "strategy" && !account.strategy) return "noStrategy";
  if (!account.iqConnected) return "noBroker";
  return null;
}

export type TryState =
  | { kind: "pending" } // not placed yet (a later gale)
  | { kind: "running"; secondsLeft: number } // placed, expiring in secondsLeft
  | { kind: "settling" } // expired, result not in yet
  | { kind: "win" | "loss" | "doji" | "failed" };

/** What a try shows: its result once settled, else a countdown to its expiry, else that it waits. */
export function tryState(t: Try, now: number): TryState {
  const result = (t.result ?? "").toLowerCase();
  if (result === "win" || result === "loss" || result === "doji" || result === "failed") return { kind: result };
  const start = typeof t.start === "string" ? Number.parseFloat(t.start) : t.start;
  if (!start || !Number.isFinite(start)) return { kind: "pending" };
  const left = Math.ceil(start + ORDER_SECONDS - now);
  return left > 0 ? { kind: "running", secondsLeft: Math.min(ORDER_SECONDS, left) } : { kind: "settling" };
}

/** "0:37" */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
