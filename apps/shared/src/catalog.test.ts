import { describe, expect, it } from "vitest";
import { against, formatP, heat, saveBody, savable, suggestedName } from "./catalog";
import type { CatalogRow, CatalogStrategy } from "./catalog";

const MHI: CatalogStrategy = { kind: "quadrant", name: "MHI maioria", period: 5, offset: 0, candles: [2, 3, 4], pick: "majority" };
const THREE: CatalogStrategy = { kind: "sequence", sequence: "-1,-1,1", operation: "put", mirror: true };
const ONE: CatalogStrategy = { kind: "sequence", sequence: "1", operation: "call", mirror: false };

const row = (strategy: CatalogStrategy) => ({ strategy }) as CatalogRow;

describe("saving a catalog row", () => {
  it("saves quadrant rules and sequences of 3 or more candles only (createStrategy's bounds)", () => {
    expect(savable(MHI)).toBe(true);
    expect(savable(THREE)).toBe(true);
    expect(savable(ONE)).toBe(false);
  });

  it("builds createStrategy's body: the rule for a quadrant, the sequence otherwise", () => {
    expect(saveBody(MHI, "  Meu   MHI ")).toEqual({
      name: "Meu MHI",
      quadrant: { period: 5, offset: 0, candles: [2, 3, 4], pick: "majority" },
    });
    expect(saveBody(THREE, "RRG")).toEqual({ name: "RRG", sequence: "-1,-1,1", operation: "put", mirror: true });
  });

  it("suggests a name within 20 characters", () => {
    expect(suggestedName(row(MHI))).toBe("MHI maioria");
    expect(suggestedName(row(THREE))).toBe("RRG PUT M");
    const long: CatalogStrategy = { kind: "sequence", sequence: Array(9).fill("0").join(","), operation: "call", mirror: true };
    expect(suggestedName(row(long)).length).toBeLessThanOrEqual(20);
  });
});

describe("reading the figures", () => {
  it("compares with break-even and colours the heat map by distance", () => {
    expect(against(0.6, 0.55)).toBe("above");
    expect(against(0.5, 0.55)).toBe("below");
    expect(against(null, 0.55)).toBe("none");
    expect(heat(0.7, 0.55)).toBe("rgba(46, 160, 67, 0.72)");
    expect(heat(0.55 - 0.075, 0.55)).toBe("rgba(207, 34, 46, 0.42)");
    expect(heat(null, 0.55)).toBe("transparent");
  });

  it("writes tiny p-values as a bound", () => {
    expect(formatP(0.00001)).toBe("< 0.001");
    expect(formatP(0.0427)).toBe("0.043");
    expect(formatP(null)).toBe("–");
  });
});
