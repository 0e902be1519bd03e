// Turning a backtestStrategy report into chart rows and table cells.

import type { BacktestReport, BacktestStats } from "../api/types";

// The report's shapes are the API's (one definition, in api/types.ts).
export type Stats = BacktestStats;
export type Report = BacktestReport;

export interface Row {
  label: string; // "" for the total
  stats: Stats;
  resolved: number;
  /** Shares of the resolved cycles: one per win level (entry, gale 1...), then the loss. */
  shares: number[];
  lossRate: number | null;
  winRate: number | null; // won at any level
}

function row(label: string, stats: Stats): Row {
  const resolved = stats.win_at.reduce((a, b) => a + b, 0) + stats.loss;
  const share = (n: number) => (resolved ? n / resolved : 0);
  return {
    label,
    stats,
    resolved,
    shares: [...stats.win_at.map(share), share(stats.loss)],
    lossRate: resolved ? stats.loss / resolved : null,
    winRate: resolved ? (resolved - stats.loss) / resolved : null,
  };
}

/** The total first, then the pairs with signals, most signals first (ties by name). */
export function reportRows(report: Report, totalLabel: string): Row[] {
  const pairs = Object.entries(report.pairs)
    .filter(([, s]) => s.signals > 0)
    .sort(([a, sa], [b, sb]) => sb.signals - sa.signals || a.localeCompare(b))
    .map(([name, s]) => row(name, s));
  return [row(totalLabel, report.total), ...pairs];
}

/** The periods a trader can test on: the stored month, or the paper market's last hours or days. */
export const PERIODS = [
  { key: "stored" },
  { key: "6h", hours: 6 },
  { key: "24h", hours: 24 },
  { key: "3d", days: 3 },
  { key: "7d", days: 7 },
  { key: "30d", days: 30 },
] as const;
export type PeriodKey = (typeof PERIODS)[number]["key"];

export function periodQuery(key: PeriodKey): { days?: number; hours?: number } {
  const found = PERIODS.find((p) => p.key === key) ?? PERIODS[0];
  if ("hours" in found) return { hours: found.hours };
  if ("days" in found) return { days: found.days };
  return {};
}

/**
 * How a result is coloured: green only when it made money, red when it lost,
 * neutral otherwise (a high hit rate that loses money is not green).
 */
export function moneyVerdict(stats: Stats): "win" | "loss" | "even" {
  const cents = Math.round((stats.net_profit ?? 0) * 100);
  return cents > 0 ? "win" : cents < 0 ? "loss" : "even";
}
