// The Catalogador as both apps use it (api/routes/catalog.py, POST /glimpse/catalog): the report's
// shapes, what a row can be saved as (createStrategy takes a sequence or a quadrant rule; a manager's
// save signs it "Glimpse"), how its figures read, and the routes over either app's client.

import type { Client } from "./http";

export interface QuadrantRuleDoc {
  period: number;
  offset: number;
  candles: number[];
  pick: "minority" | "majority";
}

export type CatalogStrategy =
  | { kind: "sequence"; sequence: string; operation: "call" | "put"; mirror: boolean }
  | ({ kind: "quadrant"; name: string } & QuadrantRuleDoc);

/** One part of the period (in-sample or held out) for one row, as glimpse/backtest/catalog.py reports it. */
export interface CatalogFigures {
  signals: number;
  win_at: number[];
  loss: number;
  unresolved: number;
  dojis: number;
  cycles: number;
  wins: number;
  hit_rate: number | null;
  wilson: [number, number] | null;
  p_value: number;
  q_value: number | null;
  expected_net: number | null; // reais per cycle at the stake and gale type
}

export interface PairRates {
  signals: number;
  cycles: number;
  hit_rate: number | null;
}

export interface CatalogRow {
  rank: number;
  strategy: CatalogStrategy;
  label: string;
  gales: number;
  break_even: number;
  score: number;
  in_sample: CatalogFigures;
  out_of_sample: CatalogFigures;
  significant_in_sample: boolean;
  flagged: boolean;
  pairs: Record<string, { in_sample: PairRates; out_of_sample: PairRates }>;
}

export interface CatalogReport {
  pairs: string[];
  candles: { in_sample: number; out_of_sample: number };
  split: number;
  max_length: number;
  gales: number;
  payout: number;
  stake: number;
  gale_type: string;
  candidates: number;
  tests: number;
  fdr: number;
  min_signals: number;
  break_even: number[];
  flagged: number;
  verdict: string;
  ranked: CatalogRow[];
  period: { from: number | null; to: number | null; source: "paper" | "stored" };
}

export interface CatalogQuery {
  pairs?: string[];
  days: number | "month";
  maxLength: number;
  gales: number;
  minSignals: number;
  stake?: number;
  galeType?: "dobro" | "cobrir" | "sobra";
  sobra?: number;
  top?: number;
}

export type SaveBody =
  | { name: string; sequence: string; operation: "call" | "put"; mirror: boolean }
  | { name: string; quadrant: QuadrantRuleDoc };

type Caller = Pick<Client, "call">;

export const catalogRoutes = ({ call }: Caller) => ({
  runCatalog: (query: CatalogQuery) => call<CatalogReport>("catalog", query),
  saveStrategy: (body: SaveBody) => call<{ res: 0 | 1 }>("createStrategy", body),
});

// createStrategy takes sequences of 3 to 12 candles and names of 3 to 20 characters.
export const MIN_SAVED_CANDLES = 3;
export const MAX_NAME = 20;

export const PERIOD_DAYS = [1, 3, 7, 30] as const;
export const GALE_CHOICES = [0, 1, 2, 3] as const;
export const LENGTH_CHOICES = [3, 5, 7, 9] as const;

export function candleCount(strategy: CatalogStrategy): number {
  return strategy.kind === "sequence" ? strategy.sequence.split(",").length : 0;
}

/** Whether a row can become a strategy: quadrant rules always, sequences of 3 candles or more. */
export function savable(strategy: CatalogStrategy): boolean {
  return strategy.kind === "quadrant" || candleCount(strategy) >= MIN_SAVED_CANDLES;
}

const SYMBOL: Record<string, string> = { "1": "G", "-1": "R", "0": "D" };

/** A default name for a saved row, within the 20 characters a name may hold. */
export function suggestedName(row: CatalogRow): string {
  const s = row.strategy;
  const base =
    s.kind === "quadrant"
      ? s.name
      : `${s.sequence.split(",").map((c) => SYMBOL[c.trim()] ?? "?").join("")} ${s.operation.toUpperCase()}${s.mirror ? " M" : ""}`;
  return base.slice(0, MAX_NAME).trim();
}

/** The createStrategy body for a row under `name`. */
export function saveBody(strategy: CatalogStrategy, name: string): SaveBody {
  const clean = name.split(/\s+/).filter(Boolean).join(" ");
  if (strategy.kind === "quadrant") {
    const { period, offset, candles, pick } = strategy;
    return { name: clean, quadrant: { period, offset, candles, pick } };
  }
  return { name: clean, sequence: strategy.sequence, operation: strategy.operation, mirror: strategy.mirror };
}

/** How a rate compares with break-even, for colours: above, below, or unknown. */
export function against(rate: number | null | undefined, breakEven: number): "above" | "below" | "none" {
  if (rate === null || rate === undefined) return "none";
  return rate > breakEven ? "above" : "below";
}

/** A heat-map cell's colour: green above break-even, red below, stronger as it moves away (±15 points is full). */
export function heat(rate: number | null | undefined, breakEven: number): string {
  if (rate === null || rate === undefined) return "transparent";
  const strength = Math.min(1, Math.abs(rate - breakEven) / 0.15);
  const alpha = (0.12 + 0.6 * strength).toFixed(2);
  return rate > breakEven ? `rgba(46, 160, 67, ${alpha})` : `rgba(207, 34, 46, ${alpha})`;
}

/** A p-value as people read it: "< 0.001" below a thousandth. */
export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined) return "–";
  return p < 0.001 ? "< 0.001" : p.toFixed(3);
}
