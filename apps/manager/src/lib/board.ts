// Pure helpers of the manager's pages (tested with Vitest).

import type { Overview, Status } from "../api";

export const STATUSES: Status[] = ["off", "waiting", "assigning", "operating", "stopping"];

/** Users by status in life-cycle order, with the total. */
export function statusRows(users: Partial<Record<Status, number>>): { status: Status | "total"; count: number }[] {
  const rows = STATUSES.map((status) => ({ status, count: users[status] ?? 0 }));
  return [...rows, { status: "total" as const, count: rows.reduce((sum, r) => sum + r.count, 0) }];
}

/** The 24 hours of today with their orders and net, scaled to the busiest hour (0..1). */
export function hourBars(perHour: Overview["perHour"]): { hour: number; orders: number; net: number; height: number; netHeight: number }[] {
  const byHour = new Map(perHour.map((h) => [h.hour, h]));
  const maxOrders = Math.max(1, ...perHour.map((h) => h.orders));
  const maxNet = Math.max(0.01, ...perHour.map((h) => Math.abs(h.net)));
  return Array.from({ length: 24 }, (_, hour) => {
    const h = byHour.get(hour);
    const orders = h?.orders ?? 0;
    const net = h?.net ?? 0;
    return { hour, orders, net, height: orders / maxOrders, netHeight: net / maxNet };
  });
}

/** Win rate of settled orders (wins over wins and losses; dojis do not count), or null. */
export function winRate(today: Pick<Overview["today"], "win" | "loss">): number | null {
  const decided = today.win + today.loss;
  return decided === 0 ? null : today.win / decided;
}

/** "YYYY-MM-DD" in the browser's zone as epoch seconds at the start of that day (end: the next day); null when empty or invalid. */
export function dayToEpoch(day: string, end = false): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day.trim());
  if (!m) return null;
  const date = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (end ? 1 : 0));
  return Number.isNaN(date.getTime()) ? null : Math.floor(date.getTime() / 1000);
}

/** Days typed by a manager ("30", "-7"): a non-zero integer within ±3650, or null. */
export function parseDays(text: string): number | null {
  if (!/^-?\d{1,4}$/.test(text.trim())) return null;
  const days = Number(text.trim());
  return days !== 0 && Math.abs(days) <= 3650 ? days : null;
}

/** An audit value as one short line. */
export function auditValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
