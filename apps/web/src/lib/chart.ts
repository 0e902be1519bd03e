// The candlestick chart's data, framework-free so it is unit-tested: candles
// from the API (getCandles, a cycle's log) in the chart's shape, the bot's
// entries as marks (entry quote, direction, expiry, result), the range a
// cycle's chart covers, and times in the market's zone.

import type { TradeResult, TradeRow } from "./trades";

export const CANDLE_SECONDS = 60;

/** A candle as the API and the bots' logs hold it. */
export interface ApiCandle {
  from?: number;
  o: number;
  c: number;
  h?: number;
  l?: number;
}

/** A candle as the chart takes it (time: the candle's first second, epoch seconds). */
export interface ChartCandle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The candles in the chart's shape: sorted by time, one per minute (a later source wins), broken ones left out. */
export function toChartCandles(...sources: readonly (readonly ApiCandle[] | undefined)[]): ChartCandle[] {
  const byTime = new Map<number, ChartCandle>();
  for (const list of sources) {
    for (const c of list ?? []) {
      if (!c || !finite(c.from) || !finite(c.o) || !finite(c.c)) continue;
      const time = c.from - (c.from % CANDLE_SECONDS);
      const high = Math.max(finite(c.h) ? c.h : c.o, c.o, c.c);
      const low = Math.min(finite(c.l) ? c.l : c.o, c.o, c.c);
      byTime.set(time, { time, open: c.o, high, low, close: c.c });
    }
  }
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

/** One order of the bot, as the chart marks it. */
export interface EntryMark {
  id: string;
  level: number; // 0 the entry, n the n-th gale
  direction: "call" | "put";
  openedAt: number; // when the order was opened (else decided), epoch seconds
  expiresAt: number | null;
  price: number | null; // the broker's open quote
  closePrice: number | null;
  result: TradeResult | null; // null while it runs
}

/** The orders' marks, oldest first (an order that never reached the broker has nothing to mark). */
export function entryMarks(trades: readonly TradeRow[]): EntryMark[] {
  return trades
    .filter((t) => t.result !== "not_placed" && t.result !== "failed")
    .map((t) => {
      const openedAt = finite(t.openedAt) ? t.openedAt : t.decidedAt;
      const expiresAt = finite(t.expiresAt) ? t.expiresAt : null;
      return {
        id: t._id,
        level: t.galeLevel,
        direction: t.operacao,
        openedAt,
        expiresAt,
        price: finite(t.openPrice) ? t.openPrice : null,
        closePrice: finite(t.closePrice) ? t.closePrice : null,
        result: t.result,
      };
    })
    .sort((a, b) => a.openedAt - b.openedAt || a.level - b.level);
}

/** The minute candle that holds `epoch`. */
export function candleOf(epoch: number): number {
  return Math.floor(epoch / CANDLE_SECONDS) * CANDLE_SECONDS;
}

/** The candle that settles an order: the last one before its expiry. */
export function settlingCandle(mark: EntryMark): number | null {
  return mark.expiresAt === null ? null : candleOf(mark.expiresAt - 1);
}

/** How many candles a cycle's chart shows before its entry. */
export const CONTEXT_CANDLES = 12;

/**
 * The range of a cycle's chart: some candles before the entry, and through the
 * candle that settled its last order (or, before the ledger answers, the
 * entry plus one expiry per level).
 */
export function cycleRange(
  horario: number,
  marks: readonly EntryMark[],
  expirationMinutes: number,
  levels: number,
): { from: number; to: number } {
  const from = candleOf(horario) - CONTEXT_CANDLES * CANDLE_SECONDS;
  const expiries = marks.map((m) => m.expiresAt).filter(finite);
  const guess = candleOf(horario) + Math.max(1, levels) * Math.max(1, expirationMinutes) * CANDLE_SECONDS;
  const last = expiries.length ? Math.max(...expiries) : guess;
  return { from, to: candleOf(last - 1) + CANDLE_SECONDS * 2 };
}

/** The orders of one cycle among a page of the ledger (the cycle's id when the log has it, else pair and time). */
export function tradesOfCycle(
  rows: readonly TradeRow[],
  cycle: { cycleId?: string; ativo: string; horario: number; expiration: number; levels: number },
): TradeRow[] {
  if (cycle.cycleId) return rows.filter((r) => r.cycle === cycle.cycleId);
  const until = cycle.horario + (Math.max(1, cycle.levels) * Math.max(1, cycle.expiration) + 1) * CANDLE_SECONDS;
  return rows.filter((r) => r.ativo === cycle.ativo && r.decidedAt >= cycle.horario - 1 && r.decidedAt < until);
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

/** "10:31" (or "03/06 10:31" with the date) in `timeZone`, as the chart's axis and the marks show times. */
export function zoneTime(epoch: number, timeZone: string, language: string, withDate = false): string {
  const key = `${timeZone}|${language}|${withDate}`;
  let format = timeFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(language, {
      timeZone,
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      ...(withDate ? { day: "2-digit", month: "2-digit" } : {}),
    });
    timeFormats.set(key, format);
  }
  return format.format(new Date(epoch * 1000));
}

/** The short name of a level on the chart: "E" (entry), "G1", "G2"... */
export function levelTag(level: number): string {
  return level === 0 ? "E" : `G${level}`;
}
