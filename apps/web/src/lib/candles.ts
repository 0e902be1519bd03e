// The strategy editor's rules: candle sequences, their bounds, inversion and
// the strategy-name rules of the original ("glimpse" names are reserved).

export type Colour = -1 | 0 | 1; // red, doji, green
export type Operation = "call" | "put";

export const MIN_CANDLES = 3;
export const MAX_CANDLES = 12;
export const MAX_NAME_LENGTH = 20;
export const MIN_NAME_LENGTH = 3;

export interface StrategyDraft {
  name: string;
  candles: Colour[];
  operation: Operation;
  mirror: boolean;
}

export function newDraft(): StrategyDraft {
  return { name: "", candles: [-1, -1, -1], operation: "call", mirror: false };
}

/** "-1,0,1" into colours; null when it is not 3 to 12 of -1, 0 and 1. */
export function parseSequence(sequence: string): Colour[] | null {
  const parts = sequence.split(",").map((p) => p.trim());
  if (parts.length < MIN_CANDLES || parts.length > MAX_CANDLES) return null;
  const colours: Colour[] = [];
  for (const part of parts) {
    if (part !== "-1" && part !== "0" && part !== "1") return null;
    colours.push(Number(part) as Colour);
  }
  return colours;
}

export function sequenceString(candles: Colour[]): string {
  return candles.join(",");
}

/** The sequence with `count` candles (kept within 3..12): new candles repeat the last colour. */
export function resize(candles: Colour[], count: number): Colour[] {
  const target = Math.min(MAX_CANDLES, Math.max(MIN_CANDLES, Math.round(count)));
  if (target <= candles.length) return candles.slice(0, target);
  const fill = candles.length ? candles[candles.length - 1] : -1;
  return [...candles, ...Array<Colour>(target - candles.length).fill(fill)];
}

export function setCandle(candles: Colour[], index: number, colour: Colour): Colour[] {
  if (index < 0 || index >= candles.length) return candles;
  return candles.map((c, i) => (i === index ? colour : c));
}

/** "Invert": red and green swap (dojis stay) and the decision flips. */
export function invert(draft: StrategyDraft): StrategyDraft {
  return {
    ...draft,
    candles: draft.candles.map((c) => (c === 0 ? 0 : -c) as Colour),
    operation: draft.operation === "call" ? "put" : "call",
  };
}

export type NameProblem = "required" | "tooShort" | "tooLong" | "reserved";

/** The name as stored (spaces collapsed), as the server normalises it. */
export function cleanName(name: string): string {
  return name.split(/\s+/).filter(Boolean).join(" ");
}

/** Why a strategy name cannot be used, or null. */
export function nameProblem(name: string): NameProblem | null {
  const clean = cleanName(name);
  if (!clean) return "required";
  if (clean.length < MIN_NAME_LENGTH) return "tooShort";
  if (clean.length > MAX_NAME_LENGTH) return "tooLong";
  if (clean.toLowerCase().includes("glimpse")) return "reserved";
  return null;
}

/** The body of createStrategy/editStrategy. */
export function strategyBody(draft: StrategyDraft) {
  return {
    name: cleanName(draft.name),
    sequence: sequenceString(draft.candles),
    operation: draft.operation,
    mirror: draft.mirror,
  };
}

/** The candles a mirrored strategy also matches (traded the other way). */
export function mirrored(candles: Colour[]): Colour[] {
  return candles.map((c) => (c === 0 ? 0 : -c) as Colour);
}
