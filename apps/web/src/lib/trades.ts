// The trades table: one row per order from the ledger (getUserTrades), with
// money in reais as the API answers it. Sorting and totals are done here,
// framework-free, so they are unit-tested.

export type TradeResult = "win" | "loss" | "doji" | "failed" | "unknown" | "not_placed";

export interface TradeRow {
  _id: string;
  ativo: string;
  operacao: "call" | "put";
  galeLevel: number;
  amount: number;
  payout: number;
  openPrice: number | null;
  closePrice: number | null;
  result: TradeResult | null;
  profit: number | null;
  status: "pending" | "open" | "unknown" | "closed";
  decidedAt: number;
  openedAt?: number | null;
  expiresAt?: number | null;
  closedAt?: number | null;
  account?: string;
  session?: string;
  cycle?: string;
}

export interface TradeTotals {
  trades: number;
  wins: number;
  losses: number;
  dojis: number;
  staked: number;
  net: number;
}

export interface TradesPage {
  items: TradeRow[];
  next: string | null;
  totals: TradeTotals;
}

export interface TradeFilters {
  fromDate?: string; // YYYY-MM-DD, a day in the market's zone
  toDate?: string;
  ativo?: string;
  result?: TradeResult | "open";
  mode?: "strategy" | "signals" | "copy";
  since?: number; // epoch seconds (a cycle's chart asks for its own orders)
  until?: number;
}

export type SortKey = "decidedAt" | "ativo" | "galeLevel" | "amount" | "openPrice" | "closePrice" | "result" | "profit";
export type SortDir = "asc" | "desc";

/** The API body for the filters: empty fields are left out (the API refuses "" for a date). */
export function filterBody(filters: TradeFilters): Record<string, string | number> {
  const body: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(filters)) {
    if (typeof value === "string" && value.trim() !== "") body[key] = value.trim();
    else if (typeof value === "number" && Number.isFinite(value)) body[key] = value;
  }
  return body;
}

function sortValue(row: TradeRow, key: SortKey): number | string | null {
  const value = row[key];
  return value === undefined ? null : value;
}

/** A sorted copy; rows without a value (an open trade's profit) go last either way; ties keep time order, newest first. */
export function sortTrades(rows: readonly TradeRow[], key: SortKey, dir: SortDir): TradeRow[] {
  const sign = dir === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    if (x === null && y !== null) return 1;
    if (y === null && x !== null) return -1;
    if (x !== null && y !== null && x !== y) {
      const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      if (order !== 0) return sign * order;
    }
    return b.decidedAt - a.decidedAt || a._id.localeCompare(b._id);
  });
}

/** The next sort after a click on a column's header: the same column flips, another starts descending. */
export function nextSort(current: { key: SortKey; dir: SortDir }, clicked: SortKey): { key: SortKey; dir: SortDir } {
  if (current.key === clicked) return { key: clicked, dir: current.dir === "asc" ? "desc" : "asc" };
  return { key: clicked, dir: "desc" };
}

/** Today in `timeZone` as YYYY-MM-DD (the date inputs' format). */
export function isoDay(epochSeconds: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone })
    .formatToParts(new Date(epochSeconds * 1000));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** A quote as the broker gave it (up to 6 decimals), a dash when there is none. */
export function formatQuote(value: number | null | undefined): string {
  return typeof value === "number" && Number.isFinite(value) ? String(Number(value.toFixed(6))) : "—";
}

/** The sum of the rows' settled profits, exact in cents. */
export function sumProfit(rows: readonly TradeRow[]): number {
  let cents = 0;
  for (const r of rows) if (typeof r.profit === "number") cents += Math.round(r.profit * 100);
  return cents / 100;
}
