// The catalog route (api/routes/catalog.py, POST /glimpse/catalog) and saving one of its rows
// as the trader's strategy (createStrategy, which takes a sequence or a quadrant rule).

import { call } from "../../api/client";

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

export const runCatalog = (query: CatalogQuery) => call<CatalogReport>("catalog", query);

export type SaveBody =
  | { name: string; sequence: string; operation: "call" | "put"; mirror: boolean }
  | { name: string; quadrant: QuadrantRuleDoc };

export const saveStrategy = (body: SaveBody) => call<{ res: 0 | 1 }>("createStrategy", body);
