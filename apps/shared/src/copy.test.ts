import { describe, expect, it } from "vitest";
import { parseMultiplier, stakeChoice } from "./copy";

describe("the follower's stake", () => {
  it("reads a multiplier typed with a comma or a dot", () => {
    expect(parseMultiplier("0,5")).toBe(0.5);
    expect(parseMultiplier(" 1.25 ")).toBe(1.25);
    expect(parseMultiplier("2")).toBe(2);
    expect(parseMultiplier("1,2,3")).toBeNull();
    expect(parseMultiplier("-1")).toBeNull();
    expect(parseMultiplier("")).toBeNull();
  });

  it("keeps a multiplier inside the server's bounds", () => {
    expect(stakeChoice("multiplier", "1")).toEqual({ ok: true, stake: { multiplier: 1 } });
    expect(stakeChoice("multiplier", "0,01")).toEqual({ ok: true, stake: { multiplier: 0.01 } });
    expect(stakeChoice("multiplier", "0")).toEqual({ ok: false, error: "copy.badMultiplier" });
    expect(stakeChoice("multiplier", "100,5")).toEqual({ ok: false, error: "copy.badMultiplier" });
  });

  it("reads a fixed stake as money: at least R$ 1, at most two decimals", () => {
    expect(stakeChoice("fixed", "2,50")).toEqual({ ok: true, stake: { fixedStake: 2.5 } });
    expect(stakeChoice("fixed", "1")).toEqual({ ok: true, stake: { fixedStake: 1 } });
    expect(stakeChoice("fixed", "0,99")).toEqual({ ok: false, error: "copy.badFixed" });
    expect(stakeChoice("fixed", "2,555")).toEqual({ ok: false, error: "copy.badFixed" });
    expect(stakeChoice("fixed", "abc")).toEqual({ ok: false, error: "copy.badFixed" });
  });
});
