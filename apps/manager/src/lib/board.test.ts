import { describe, expect, it } from "vitest";
import { auditValue, dayToEpoch, hourBars, parseDays, statusRows, winRate } from "./board";

describe("overview helpers", () => {
  it("lists users by status in life-cycle order with a total", () => {
    const rows = statusRows({ operating: 2, off: 5, stopping: 1 });
    expect(rows.map((r) => r.status)).toEqual(["off", "waiting", "assigning", "operating", "stopping", "total"]);
    expect(rows.map((r) => r.count)).toEqual([5, 0, 0, 2, 1, 8]);
  });

  it("fills the 24 hours and scales to the busiest", () => {
    const bars = hourBars([{ hour: 3, orders: 4, net: -2 }, { hour: 10, orders: 2, net: 1 }]);
    expect(bars).toHaveLength(24);
    expect(bars[3]).toMatchObject({ orders: 4, height: 1, netHeight: -1 });
    expect(bars[10]).toMatchObject({ orders: 2, height: 0.5, netHeight: 0.5 });
    expect(bars[0]).toMatchObject({ orders: 0, height: 0, netHeight: 0 });
  });

  it("counts the win rate without dojis", () => {
    expect(winRate({ win: 3, loss: 1 })).toBe(0.75);
    expect(winRate({ win: 0, loss: 0 })).toBeNull();
  });
});

describe("inputs", () => {
  it("reads a day as local midnight, or the next midnight for an end", () => {
    const start = dayToEpoch("2024-06-03")!;
    expect(new Date(start * 1000).getHours()).toBe(0);
    expect(dayToEpoch("2024-06-03", true)! - start).toBe(86400);
    expect(dayToEpoch("03/06/2024")).toBeNull();
    expect(dayToEpoch("")).toBeNull();
  });

  it("reads subscription days", () => {
    expect(parseDays("30")).toBe(30);
    expect(parseDays(" -7 ")).toBe(-7);
    expect(parseDays("0")).toBeNull();
    expect(parseDays("1.5")).toBeNull();
    expect(parseDays("99999")).toBeNull();
  });

  it("shortens audit values", () => {
    expect(auditValue(null)).toBe("—");
    expect(auditValue({ blocked: true })).toBe('{"blocked":true}');
    expect(auditValue("x".repeat(200))).toHaveLength(120);
  });
});
