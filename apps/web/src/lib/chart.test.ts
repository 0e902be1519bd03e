import { describe, expect, it } from "vitest";
import { candleOf, cycleRange, entryMarks, levelTag, settlingCandle, toChartCandles, tradesOfCycle, zoneTime } from "./chart";
import { tradeRow } from "./testTrades";
import type { TradeRow } from "./trades";

// Decided at a real instant: the chart's zones and minutes read it.
const trade = (id: string, fields: Partial<TradeRow>): TradeRow => tradeRow(id, { decidedAt: 1_717_419_659, ...fields });

describe("toChartCandles", () => {
  it("sorts, aligns to the minute, keeps one candle a minute (the later source wins) and skips broken ones", () => {
    const logged = [
      { from: 120, o: 1, c: 2, h: 3, l: 0.5 },
      { from: 60, o: 2, c: 1 },
      { o: 1, c: 1 }, // no time
    ];
    const fetched = [{ from: 125, o: 1, c: 1.5, h: 1.6, l: 0.9 }, { from: 180, o: Number.NaN, c: 1 }];
    const out = toChartCandles(logged, fetched);
    expect(out.map((c) => c.time)).toEqual([60, 120]);
    // no high/low: the body's ends
    expect(out[0]).toEqual({ time: 60, open: 2, high: 2, low: 1, close: 1 });
    expect(out[1]).toEqual({ time: 120, open: 1, high: 1.6, low: 0.9, close: 1.5 });
  });
});

describe("entryMarks", () => {
  it("marks the placed orders oldest first, at their open time, with quotes, expiry and result", () => {
    const rows = [
      trade("g1", { galeLevel: 1, decidedAt: 1060, openedAt: 1061, expiresAt: 1120, openPrice: 1.3, result: "loss" }),
      trade("e", { decidedAt: 1000, openedAt: 1001, expiresAt: 1060, openPrice: 1.2, closePrice: 1.19, result: "loss" }),
      trade("x", { galeLevel: 2, decidedAt: 1120, result: "not_placed", openPrice: null }),
      trade("g2", { galeLevel: 2, decidedAt: 1121, openedAt: null, expiresAt: null, openPrice: null, closePrice: null, result: null }),
    ];
    const marks = entryMarks(rows);
    expect(marks.map((m) => m.id)).toEqual(["e", "g1", "g2"]);
    expect(marks[0]).toMatchObject({ level: 0, openedAt: 1001, price: 1.2, closePrice: 1.19, expiresAt: 1060, result: "loss" });
    expect(marks[2]).toMatchObject({ openedAt: 1121, price: null, expiresAt: null, result: null });
  });

  it("puts the result on the candle before the expiry", () => {
    const [mark] = entryMarks([trade("e", { openedAt: 1001, expiresAt: 1080 })]);
    expect(settlingCandle(mark)).toBe(1020);
    expect(candleOf(1001)).toBe(960);
  });
});

describe("cycleRange", () => {
  it("runs from candles before the entry through the candle that settled the last order", () => {
    const marks = entryMarks([
      trade("e", { openedAt: 6001, expiresAt: 6060 }),
      trade("g1", { galeLevel: 1, openedAt: 6061, expiresAt: 6120 }),
    ]);
    const range = cycleRange(6000, marks, 1, 2);
    expect(range.from).toBe(6000 - 12 * 60);
    expect(range.to).toBeGreaterThanOrEqual(6060); // the settling candle of G1
  });

  it("guesses one expiry per level before the ledger answers", () => {
    expect(cycleRange(6000, [], 5, 3).to).toBeGreaterThanOrEqual(6000 + 3 * 5 * 60 - 60);
  });
});

describe("tradesOfCycle", () => {
  const rows = [
    trade("a", { cycle: "c1", decidedAt: 1000 }),
    trade("b", { cycle: "c1", decidedAt: 1060, galeLevel: 1 }),
    trade("c", { cycle: "c2", decidedAt: 1200 }),
    trade("d", { cycle: "c3", decidedAt: 1010, ativo: "GBPUSD" }),
  ];
  it("takes the cycle's id when the log has one", () => {
    expect(tradesOfCycle(rows, { cycleId: "c1", ativo: "EURUSD", horario: 1000, expiration: 1, levels: 2 }).map((r) => r._id)).toEqual(["a", "b"]);
  });
  it("else the pair's orders within the cycle's span", () => {
    expect(tradesOfCycle(rows, { ativo: "EURUSD", horario: 1000, expiration: 1, levels: 1 }).map((r) => r._id)).toEqual(["a", "b"]);
  });
});

describe("times", () => {
  it("shows times in the market's zone, not the machine's", () => {
    // 2024-06-03 13:00 UTC is 10:00 in São Paulo
    expect(zoneTime(1_717_419_600, "America/Sao_Paulo", "pt-BR")).toBe("10:00");
    expect(zoneTime(1_717_419_600, "UTC", "pt-BR")).toBe("13:00");
    expect(zoneTime(1_717_419_600, "America/Sao_Paulo", "pt-BR", true)).toContain("03/06");
  });
  it("tags levels", () => {
    expect([0, 1, 2].map(levelTag)).toEqual(["E", "G1", "G2"]);
  });
});
