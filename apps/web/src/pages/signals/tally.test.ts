import { describe, expect, it } from "vitest";
import type { Signal } from "../../api";
import type { TradeRow } from "../../lib/trades";
import { outcomesBySignal, tally } from "./tally";

const TZ = "America/Sao_Paulo";
// 2024-06-03 10:00:00 in São Paulo.
const TEN = 1_717_419_600;

function signal(id: string, hora: string, resultado: Signal["resultado"], ativo = "EURUSD"): Signal {
  return { id, ativo, hora, operacao: "call", status: resultado ? "result" : "active", resultado };
}

function trade(cycle: string, level: number, decidedAt: number, amount: number, profit: number, ativo = "EURUSD"): TradeRow {
  return {
    _id: `${cycle}-${level}`, ativo, operacao: "call", galeLevel: level, amount, payout: 87, openPrice: 1, closePrice: 1,
    result: profit > 0 ? "win" : "loss", profit, status: "closed", decidedAt, cycle,
  };
}

describe("the signal tally", () => {
  it("counts wins x losses and the wins by level in the traders' notation", () => {
    const signals = [
      signal("a", "10:01", "win"), signal("b", "10:03", "win"), signal("c", "10:05", "win"),
      signal("d", "10:07", "win"), signal("e", "10:09", "win"), signal("f", "10:11", "loss"),
      signal("g", "10:13", ""),
    ];
    const trades = [
      trade("a", 0, TEN + 58.5, 2, 1.74),
      trade("b", 0, TEN + 120 + 58.5, 2, 1.74),
      trade("c", 0, TEN + 240 + 58.5, 2, 1.74),
      trade("d", 0, TEN + 360 + 58.5, 2, -2), trade("d", 1, TEN + 420, 4, 3.48),
      trade("e", 0, TEN + 480 + 58.5, 2, -2), trade("e", 1, TEN + 540, 4, -4), trade("e", 2, TEN + 600, 8, 6.96),
      trade("f", 0, TEN + 600 + 58.5, 2, -2), trade("f", 1, TEN + 660, 4, -4),
    ];
    const outcomes = outcomesBySignal(signals, trades, TZ);
    expect(outcomes.get("d")).toEqual({ level: 1, stake: 6, net: 1.48 });
    expect(outcomes.get("e")).toEqual({ level: 2, stake: 14, net: 0.96 });
    expect(outcomes.get("f")).toEqual({ level: 1, stake: 6, net: -6 });
    expect(outcomes.has("g")).toBe(false);
    const t = tally(signals, outcomes);
    expect(t.score).toBe("5x1");
    expect(t.levels).toBe("SG 3, G1 1, G2 1, Hit 1");
  });

  it("matches a signal only to the entry on its own pair and minute", () => {
    const signals = [signal("a", "10:01", "win", "GBPUSD")];
    const outcomes = outcomesBySignal(signals, [trade("x", 0, TEN + 58.5, 2, 1.74, "EURUSD")], TZ);
    expect(outcomes.size).toBe(0);
    expect(tally(signals, outcomes)).toMatchObject({ score: "1x0", levels: "SG 1" });
    expect(tally([], new Map()).levels).toBe("");
  });
});
