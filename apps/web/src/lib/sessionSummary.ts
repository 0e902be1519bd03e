// What a Glimpse session came to, shown when it ends: from the ledger's trades of that session.
import type { TradeRow } from "./trades";

export interface SessionSummary {
  session: string;
  orders: number;
  wins: number;
  losses: number;
  dojis: number;
  net: number; // reais, summed in cents
}

/** The summary of the newest session among `rows` (newest first, as getUserTrades answers). */
export function summarizeLastSession(rows: readonly TradeRow[]): SessionSummary | null {
  const session = rows.find((r) => r.session)?.session;
  if (!session) return null;
  let cents = 0;
  const summary: SessionSummary = { session, orders: 0, wins: 0, losses: 0, dojis: 0, net: 0 };
  for (const r of rows) {
    if (r.session !== session) continue;
    summary.orders += 1;
    if (r.result === "win") summary.wins += 1;
    else if (r.result === "loss") summary.losses += 1;
    else if (r.result === "doji") summary.dojis += 1;
    if (typeof r.profit === "number") cents += Math.round(r.profit * 100);
  }
  summary.net = cents / 100;
  return summary;
}
