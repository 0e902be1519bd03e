import { describe, expect, it } from "vitest";
import cases from "../../../shared/src/fixtures/gale_cases.json";
import { calculate, galePlan, type GaleType } from "./gale";

interface Case {
  stake: string;
  galeType: GaleType;
  gales: number;
  payout: string;
  sobra: string;
  entries: number[];
  wins: number[];
  worstCase: number;
}

const toCents = (text: string) => Math.round(Number(text) * 100);

describe("the port equals glimpse.rules.money on the core's own cases", () => {
  it(`holds for all ${(cases as Case[]).length} of them`, () => {
    expect((cases as Case[]).length).toBeGreaterThan(100);
    for (const c of cases as Case[]) {
      const plan = galePlan(toCents(c.stake), c.galeType, c.gales, c.payout, toCents(c.sobra));
      expect(plan, JSON.stringify(c)).toEqual({ entries: c.entries, wins: c.wins, worstCase: c.worstCase });
    }
  });
});

describe("calculate", () => {
  const base = { money: "2,00", gale: true, galeCount: "2", galeType: "dobro" as GaleType, sobra: "", payout: "87" };
  it("reads what the trader types, in either convention", () => {
    expect(calculate(base)?.worstCase).toBe(-1400);
    expect(calculate({ ...base, money: "1.234,56", galeCount: "0" })?.entries).toEqual([123456]);
    expect(calculate({ ...base, money: "1234.56", galeCount: "1" })?.entries).toEqual([123456, 246912]);
  });
  it("ignores the gale count when gales are off and waits for valid input", () => {
    expect(calculate({ ...base, gale: false })?.entries).toEqual([200]);
    expect(calculate({ ...base, money: "2,,0" })).toBeNull();
    expect(calculate({ ...base, galeCount: "" })).toBeNull();
    expect(calculate({ ...base, payout: "" })).toBeNull();
  });
});
