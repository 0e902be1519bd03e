// Quadrant strategies in the editor: the presets of glimpse/rules/quadrants.py (PRESETS; a
// Python test checks this table against it) and how a rule reads in words.

import { call } from "../../api/client";
import type { Strategy } from "../../api";
import type { QuadrantRuleDoc } from "../catalog/catalogApi";

export type { QuadrantRuleDoc };

export interface QuadrantPreset extends QuadrantRuleDoc {
  key: string;
  name: string;
}

const LAST_THREE = [2, 3, 4];
const FIRST_THREE = [0, 1, 2];
const ALL_FIVE = [0, 1, 2, 3, 4];

export const QUADRANT_PRESETS: QuadrantPreset[] = [
  { key: "mhi", name: "MHI", period: 5, offset: 0, candles: LAST_THREE, pick: "minority" },
  { key: "mhi-maioria", name: "MHI maioria", period: 5, offset: 0, candles: LAST_THREE, pick: "majority" },
  { key: "mhi2", name: "MHI 2", period: 5, offset: 1, candles: LAST_THREE, pick: "minority" },
  { key: "mhi2-maioria", name: "MHI 2 maioria", period: 5, offset: 1, candles: LAST_THREE, pick: "majority" },
  { key: "mhi3", name: "MHI 3", period: 5, offset: 2, candles: LAST_THREE, pick: "minority" },
  { key: "mhi3-maioria", name: "MHI 3 maioria", period: 5, offset: 2, candles: LAST_THREE, pick: "majority" },
  { key: "milhao", name: "Milhão minoria", period: 5, offset: 2, candles: ALL_FIVE, pick: "minority" },
  { key: "milhao-maioria", name: "Milhão maioria", period: 5, offset: 2, candles: ALL_FIVE, pick: "majority" },
  { key: "vituxo", name: "Vituxo 2.0 minoria", period: 5, offset: 2, candles: FIRST_THREE, pick: "minority" },
  { key: "vituxo-maioria", name: "Vituxo 2.0 maioria", period: 5, offset: 2, candles: FIRST_THREE, pick: "majority" },
];

/** A stored strategy as getStrategies lists it: a quadrant one carries its rule. */
export type StoredStrategy = Strategy & { quadrant?: QuadrantRuleDoc };

export function sameRule(a: QuadrantRuleDoc, b: QuadrantRuleDoc): boolean {
  return (
    a.period === b.period &&
    a.offset === b.offset &&
    a.pick === b.pick &&
    a.candles.length === b.candles.length &&
    a.candles.every((c, i) => c === b.candles[i])
  );
}

/** The preset a stored rule is, or undefined for a rule of one's own. */
export function presetOf(rule: QuadrantRuleDoc): QuadrantPreset | undefined {
  return QUADRANT_PRESETS.find((p) => sameRule(p, rule));
}

export function ruleOf(preset: QuadrantPreset): QuadrantRuleDoc {
  return { period: preset.period, offset: preset.offset, candles: [...preset.candles], pick: preset.pick };
}

/** The placeholders of strategy.quadrantRule: entry candle and analysed candles counted from 1. */
export function ruleParams(rule: QuadrantRuleDoc, pickWord: string): Record<string, string | number> {
  return {
    entry: rule.offset + 1,
    period: rule.period,
    pick: pickWord,
    candles: rule.candles.map((c) => c + 1).join(", "),
  };
}

/** createStrategy or editStrategy with a quadrant rule. */
export function saveQuadrant(editing: boolean, name: string, quadrant: QuadrantRuleDoc) {
  return call<{ res: 0 | 1 }>(editing ? "editStrategy" : "createStrategy", { name, quadrant });
}
