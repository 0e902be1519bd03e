import { describe, expect, it } from "vitest";
import { moneyVerdict, periodQuery, reportRows, type Stats } from "./backtest";

function stats(win_at: number[], loss: number, unresolved = 0, dojis = 0): Stats {
  const resolved = win_at.reduce((a, b) => a + b, 0) + loss;
  let acc = 0;
  return {
    signals: resolved + unresolved,
    win_at,
    loss,
    unresolved,
    dojis,
    win_rate_at: win_at.map((w) => (resolved ? w / resolved : null)),
    win_rate_cumulative: win_at.map((w) => (resolved ? (acc += w) / resolved : null)),
  };
}

describe("backtest rows", () => {
  it("puts the total first and orders pairs by signals, hiding pairs without any", () => {
    const rows = reportRows(
      {
        total: stats([6, 2, 1], 1, 1),
        pairs: { GBPUSD: stats([2, 0, 0], 0), EURUSD: stats([4, 2, 1], 1, 1), USDJPY: stats([0, 0, 0], 0) },
      },
      "Total",
    );
    expect(rows.map((r) => r.label)).toEqual(["Total", "EURUSD", "GBPUSD"]);
  });

  it("splits the resolved cycles into win levels and loss; unresolved ones are left out", () => {
    const [total] = reportRows({ total: stats([6, 2, 1], 1, 3, 4), pairs: {} }, "Total");
    expect(total.resolved).toBe(10);
    expect(total.shares).toEqual([0.6, 0.2, 0.1, 0.1]);
    expect(total.winRate).toBeCloseTo(0.9);
    expect(total.lossRate).toBeCloseTo(0.1);
  });

  it("has no rates without resolved cycles", () => {
    const [total] = reportRows({ total: stats([0], 0, 2), pairs: {} }, "Total");
    expect(total.shares).toEqual([0, 0]);
    expect(total.winRate).toBeNull();
    expect(total.lossRate).toBeNull();
  });
});

describe("money verdicts and periods", () => {
  it("is green only when it made money, whatever the hit rate", () => {
    const high = { ...stats([80, 6], 14), net_profit: -3.2 };
    expect(moneyVerdict(high)).toBe("loss");
    expect(moneyVerdict({ ...high, net_profit: 0.004 })).toBe("even");
    expect(moneyVerdict({ ...high, net_profit: 0.01 })).toBe("win");
    expect(moneyVerdict(stats([1], 1))).toBe("even");
  });
  it("asks the API for hours, days or the stored month", () => {
    expect(periodQuery("6h")).toEqual({ hours: 6 });
    expect(periodQuery("30d")).toEqual({ days: 30 });
    expect(periodQuery("stored")).toEqual({});
  });
});
