import { describe, expect, it } from "vitest";
import { QUADRANT_PRESETS, presetOf, ruleOf, ruleParams } from "./quadrants";

describe("quadrant presets", () => {
  it("finds a stored rule's preset, and none for a rule of one's own", () => {
    const mhi2 = QUADRANT_PRESETS.find((p) => p.key === "mhi2")!;
    expect(presetOf({ period: 5, offset: 1, candles: [2, 3, 4], pick: "minority" })).toBe(mhi2);
    expect(presetOf({ period: 15, offset: 1, candles: [2, 3, 4], pick: "minority" })).toBeUndefined();
    expect(ruleOf(mhi2)).toEqual({ period: 5, offset: 1, candles: [2, 3, 4], pick: "minority" });
  });

  it("reads candles and the entry counted from 1", () => {
    const milhao = QUADRANT_PRESETS.find((p) => p.key === "milhao")!;
    expect(ruleParams(milhao, "minoria")).toEqual({ entry: 3, period: 5, pick: "minoria", candles: "1, 2, 3, 4, 5" });
  });

  it("has unique keys and names", () => {
    expect(new Set(QUADRANT_PRESETS.map((p) => p.key)).size).toBe(QUADRANT_PRESETS.length);
    expect(new Set(QUADRANT_PRESETS.map((p) => p.name)).size).toBe(QUADRANT_PRESETS.length);
  });
});
