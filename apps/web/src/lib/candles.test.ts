import { describe, expect, it } from "vitest";
import {
  MAX_CANDLES,
  MIN_CANDLES,
  invert,
  mirrored,
  nameProblem,
  newDraft,
  parseSequence,
  resize,
  sequenceString,
  setCandle,
  strategyBody,
  type Colour,
} from "./candles";

describe("sequences", () => {
  it("reads and writes the stored form", () => {
    expect(parseSequence("-1,0,1")).toEqual([-1, 0, 1]);
    expect(parseSequence(" -1, -1 ,1,1")).toEqual([-1, -1, 1, 1]);
    expect(sequenceString([-1, 0, 1, 1])).toBe("-1,0,1,1");
  });

  it("refuses too few, too many or unknown values", () => {
    expect(parseSequence("1,1")).toBeNull();
    expect(parseSequence(Array(13).fill("1").join(","))).toBeNull();
    expect(parseSequence("1,2,1")).toBeNull();
    expect(parseSequence("1,,1")).toBeNull();
  });
});

describe("candle count", () => {
  const three: Colour[] = [-1, 0, 1];

  it("stays within 3 and 12", () => {
    expect(resize(three, 2)).toEqual(three);
    expect(resize(three, 0)).toHaveLength(MIN_CANDLES);
    expect(resize(three, 40)).toHaveLength(MAX_CANDLES);
  });

  it("adds candles of the last colour and removes from the end", () => {
    expect(resize(three, 5)).toEqual([-1, 0, 1, 1, 1]);
    expect(resize([1, 1, -1, -1, 0], 4)).toEqual([1, 1, -1, -1]);
  });

  it("sets one candle's colour", () => {
    expect(setCandle(three, 1, -1)).toEqual([-1, -1, 1]);
    expect(setCandle(three, 7, -1)).toBe(three);
  });
});

describe("invert and mirror", () => {
  it("swaps red and green, keeps dojis and flips the decision", () => {
    const draft = { ...newDraft(), candles: [-1, 0, 1] as Colour[], operation: "put" as const, mirror: true };
    const inverted = invert(draft);
    expect(inverted.candles).toEqual([1, 0, -1]);
    expect(inverted.operation).toBe("call");
    expect(inverted.mirror).toBe(true);
    expect(invert(inverted)).toEqual(draft);
  });

  it("mirrors colours without touching dojis", () => {
    expect(mirrored([1, 1, 0, -1])).toEqual([-1, -1, 0, 1]);
  });
});

describe("strategy names", () => {
  it.each([
    ["", "required"],
    ["   ", "required"],
    ["ab", "tooShort"],
    [" ab  ", "tooShort"],
    ["x".repeat(21), "tooLong"],
    ["My Glimpse", "reserved"],
    ["GLIMPSEr", "reserved"],
    ["gLiMpSe 2", "reserved"],
  ])("%j is refused (%s)", (name, problem) => {
    expect(nameProblem(name)).toBe(problem);
  });

  it.each(["abc", "Três vermelhas", "x".repeat(20), "Glimp se"])("%j is accepted", (name) => {
    expect(nameProblem(name)).toBeNull();
  });

  it("sends the cleaned name with the sequence", () => {
    const body = strategyBody({ name: "  Três   reds ", candles: [-1, -1, -1], operation: "call", mirror: false });
    expect(body).toEqual({ name: "Três reds", sequence: "-1,-1,-1", operation: "call", mirror: false });
  });
});
