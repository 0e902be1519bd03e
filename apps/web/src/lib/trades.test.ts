import { describe, expect, it } from "vitest";
import { filterBody, formatQuote, isoDay, nextSort, sortTrades, sumProfit } from "./trades";
import { tradeRow } from "./testTrades";

const row = tradeRow;

const rows = [
  row("a", { decidedAt: 100, profit: 1.74, ativo: "GBPUSD" }),
  row("b", { decidedAt: 200, profit: -4.3, galeLevel: 1 }),
  row("c", { decidedAt: 300, profit: null, result: null, status: "open" }),
  row("d", { decidedAt: 50, profit: 0.1 }),
];

describe("sortTrades", () => {
  it("sorts by profit both ways with open trades last", () => {
    expect(sortTrades(rows, "profit", "desc").map((r) => r._id)).toEqual(["a", "d", "b", "c"]);
    expect(sortTrades(rows, "profit", "asc").map((r) => r._id)).toEqual(["b", "d", "a", "c"]);
  });
  it("sorts text columns and breaks ties newest first", () => {
    expect(sortTrades(rows, "ativo", "asc").map((r) => r._id)).toEqual(["c", "b", "d", "a"]);
  });
  it("does not change its input", () => {
    const copy = [...rows];
    sortTrades(rows, "decidedAt", "asc");
    expect(rows).toEqual(copy);
  });
});

describe("nextSort", () => {
  it("flips the same column and starts another descending", () => {
    expect(nextSort({ key: "profit", dir: "desc" }, "profit")).toEqual({ key: "profit", dir: "asc" });
    expect(nextSort({ key: "profit", dir: "asc" }, "ativo")).toEqual({ key: "ativo", dir: "desc" });
  });
});

describe("filters and figures", () => {
  it("leaves empty filters out of the body", () => {
    expect(filterBody({ fromDate: "", ativo: " EURUSD ", result: "win" })).toEqual({ ativo: "EURUSD", result: "win" });
  });
  it("gives the day in São Paulo, not the device's", () => {
    // 2024-06-04 02:30 UTC is still the 3rd in São Paulo (UTC−3).
    expect(isoDay(1717468200, "America/Sao_Paulo")).toBe("2024-06-03");
    expect(isoDay(1717468200, "UTC")).toBe("2024-06-04");
  });
  it("sums profits in exact cents and shows quotes without float noise", () => {
    expect(sumProfit([row("x", { profit: 0.1 }), row("y", { profit: 0.2 }), row("z", { profit: null })])).toBe(0.3);
    expect(formatQuote(1.0851200000000001)).toBe("1.08512");
    expect(formatQuote(null)).toBe("—");
  });
});
