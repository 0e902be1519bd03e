import { describe, expect, it } from "vitest";
import { galePlan, parseAmountCents } from "./gale";

describe("parseAmountCents", () => {
  it.each([
    ["1.234,56", 123456],
    ["1234,56", 123456],
    ["1,234.56", 123456],
    ["1234.56", 123456],
    ["1.234", 123400],
    ["1,234", 123400],
    ["2,555", 255500],
    ["1.234.567,8", 123456780],
    ["2,5", 250],
    ["2.50", 250],
    ["10", 1000],
    ["R$ 5,00", 500],
    [" 0,01 ", 1],
  ])("reads %s", (text, cents) => {
    expect(parseAmountCents(text)).toBe(cents);
  });
  it.each(["", "abc", "1,2,3", "1.23.4", "12.34,5.6", "1.2345", "-5", ",", "12,34,567"])(
    "refuses %s",
    (text) => {
      expect(parseAmountCents(text)).toBeNull();
    },
  );
});

describe("galePlan", () => {
  it("follows the three rules", () => {
    expect(galePlan(200, "dobro", 2, 87)?.entries).toEqual([200, 400, 800]);
    // cobrir: 2.00 / 0.87 = 2.2988 -> 2.30
    expect(galePlan(200, "cobrir", 1, 87)?.entries).toEqual([200, 230]);
    // sobra: (2.00 + 1.00) / 0.87 = 3.448 -> 3.45 (the Glimpse strategies' plan)
    expect(galePlan(200, "sobra", 1, 87, 100)).toEqual({ entries: [200, 345], wins: [174, 100], worstCase: -545 });
  });
  it("refuses inputs out of the rule's range", () => {
    expect(galePlan(0, "dobro", 1, 87)).toBeNull();
    expect(galePlan(200, "dobro", 11, 87)).toBeNull();
    expect(galePlan(200, "dobro", 1, 0)).toBeNull();
    expect(galePlan(200, "dobro", 1, "abc")).toBeNull();
  });
});
