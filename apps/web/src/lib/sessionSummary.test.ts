import { describe, expect, it } from "vitest";
import { summarizeLastSession } from "./sessionSummary";
import type { TradeRow } from "./trades";

const row = (session: string, result: TradeRow["result"], profit: number | null): TradeRow => ({
  _id: Math.random().toString(36),
  ativo: "EURUSD",
  operacao: "call",
  galeLevel: 0,
  amount: 2,
  payout: 87,
  openPrice: 1,
  closePrice: 1,
  result,
  profit,
  status: result ? "closed" : "open",
  decidedAt: 0,
  session,
});

describe("summarizeLastSession", () => {
  it("counts the newest session's orders only, exact to the cent", () => {
    const rows = [row("s2", "win", 1.74), row("s2", "loss", -2), row("s2", "doji", 0), row("s2", "win", 0.1), row("s1", "win", 99)];
    expect(summarizeLastSession(rows)).toEqual({ session: "s2", orders: 4, wins: 2, losses: 1, dojis: 1, net: -0.16 });
  });
  it("is null without trades", () => {
    expect(summarizeLastSession([])).toBeNull();
  });
});
