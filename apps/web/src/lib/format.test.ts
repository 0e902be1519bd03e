import { describe, expect, it } from "vitest";
import {
  formatDateTime,
  formatMoney,
  formatPayout,
  formatPercent,
  formatSignedMoney,
  pairsSummary,
  parseMoneyInput,
  parsePayout,
  payoutString,
  resultClass,
  shortName,
} from "./format";

// Intl separates "R$" from the number with a no-break space in pt-BR.
const nb = (s: string) => s.replace(/ /g, "\u00a0");

describe("money", () => {
  it("formats reais in each language", () => {
    expect(formatMoney(1234.5, "pt-BR")).toBe(nb("R$ 1.234,50"));
    expect(formatMoney(1234.5, "en")).toBe("R$1,234.50");
    expect(formatMoney(0.1 + 0.2, "pt-BR")).toBe(nb("R$ 0,30"));
  });

  it("reads numeric strings and never shows a negative zero", () => {
    expect(formatMoney("2", "en")).toBe("R$2.00");
    expect(formatMoney(-0, "en")).toBe("R$0.00");
    expect(formatMoney("abc", "en")).toBe("—");
    expect(formatMoney(undefined, "en")).toBe("—");
  });

  it("puts the sign of a result in front", () => {
    expect(formatSignedMoney(1.8, "pt-BR")).toBe("+ " + nb("R$ 1,80"));
    expect(formatSignedMoney(-2, "en")).toBe("− R$2.00");
    expect(formatSignedMoney(0.004, "en")).toBe("R$0.00");
    expect(resultClass(0.004)).toBe("even");
    expect(resultClass(-0.01)).toBe("loss");
    expect(resultClass(3)).toBe("win");
  });

  it("accepts typed amounts with a comma or a point and at most cents", () => {
    expect(parseMoneyInput("2,50", 1)).toBe(2.5);
    expect(parseMoneyInput(" 10 ", 1)).toBe(10);
    expect(parseMoneyInput("0.5", 1)).toBeNull();
    expect(parseMoneyInput("1.234", 1)).toBeNull();
    expect(parseMoneyInput("-3", 0)).toBeNull();
    expect(parseMoneyInput("", 0)).toBeNull();
  });
});

describe("percentages", () => {
  it("formats fractions per language and digits", () => {
    expect(formatPercent(0.756, "en")).toBe("76%");
    expect(formatPercent(0.756, "pt-BR", 1)).toBe("75,6%");
    expect(formatPercent(1, "pt-BR")).toBe("100%");
    expect(formatPercent(0, "en", 1)).toBe("0.0%");
  });

  it("shows a dash when there is no rate", () => {
    expect(formatPercent(null, "en")).toBe("—");
    expect(formatPercent(Number.NaN, "en")).toBe("—");
  });

  it("reads and writes the payout filter", () => {
    expect(parsePayout("= 90")).toEqual({ operator: "=", value: 90 });
    expect(parsePayout("garbage")).toEqual({ operator: ">", value: 75 });
    expect(payoutString({ operator: ">", value: 82 })).toBe("> 82");
    expect(formatPayout("> 85")).toBe("> 85%");
  });
});

describe("names and lists", () => {
  it("shortens a name to its first and last word", () => {
    expect(shortName("Ana Maria  Silva")).toBe("Ana Silva");
    expect(shortName("Ana")).toBe("Ana");
    expect(shortName("")).toBe("");
  });

  it("summarises the chosen pairs", () => {
    expect(pairsSummary("todos", "todos")).toBe("todos");
    expect(pairsSummary("EURUSD,GBPUSD", "all")).toBe("EURUSD, GBPUSD");
    expect(pairsSummary("EURUSD,GBPUSD,USDJPY", "all")).toBe("EURUSD, GBPUSD...");
  });

  it("formats times in the given zone", () => {
    // 2024-06-03 13:00:00 UTC is 10:00 in São Paulo
    expect(formatDateTime(1717419600, "pt-BR", "America/Sao_Paulo")).toBe("03/06/2024 10:00:00");
    expect(formatDateTime(1717419600.7, "en", "UTC")).toBe("2024-06-03 13:00:00");
  });
});
