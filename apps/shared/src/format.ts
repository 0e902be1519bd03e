// Display formatting, shared by both apps. The server rounds money to cents; these only present it.

export type Locale = "pt-BR" | "en";

const moneyFormats = new Map<Locale, Intl.NumberFormat>();

function moneyFormat(locale: Locale): Intl.NumberFormat {
  let format = moneyFormats.get(locale);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: "currency", currency: "BRL" });
    moneyFormats.set(locale, format);
  }
  return format;
}

/** "R$ 1.234,50" (pt-BR) or "R$1,234.50" (en). Non-numbers show as a dash. */
export function formatMoney(value: unknown, locale: Locale): string {
  const n = toNumber(value);
  if (n === null) return "—";
  return moneyFormat(locale).format(n === 0 ? 0 : n); // never "-R$ 0,00"
}

/** A result with its sign in front: "+ R$ 2,00", "− R$ 1,50", "R$ 0,00". */
export function formatSignedMoney(value: unknown, locale: Locale): string {
  const n = toNumber(value);
  if (n === null) return "—";
  const cents = Math.round(n * 100);
  if (cents === 0) return formatMoney(0, locale);
  return `${cents > 0 ? "+" : "−"} ${formatMoney(Math.abs(cents) / 100, locale)}`;
}

/** The sign class of a result: "win", "loss" or "even" (rounded to cents). */
export function resultClass(value: number): "win" | "loss" | "even" {
  const cents = Math.round(value * 100);
  return cents > 0 ? "win" : cents < 0 ? "loss" : "even";
}

/** A fraction (0.756) as a percentage ("76%" or "75,6%" with one digit); null shows as a dash. */
export function formatPercent(fraction: number | null | undefined, locale: Locale, digits = 0): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "—";
  return new Intl.NumberFormat(locale, {
    style: "percent",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(fraction);
}

/** The account's payout filter ("> 85") as shown on the dashboard ("> 85%"). */
export function formatPayout(preferedPayout: string | undefined): string {
  const p = parsePayout(preferedPayout);
  return `${p.operator} ${p.value}%`;
}

export interface PayoutFilter {
  operator: ">" | "=";
  value: number;
}

/** "> 85" or "= 85" into its parts; anything else reads as the default "> 75". */
export function parsePayout(preferedPayout: string | undefined): PayoutFilter {
  const m = /^([>=]) (\d{1,3})$/.exec(preferedPayout ?? "");
  if (!m) return { operator: ">", value: 75 };
  return { operator: m[1] as ">" | "=", value: Number(m[2]) };
}

export function payoutString(filter: PayoutFilter): string {
  return `${filter.operator} ${Math.round(filter.value)}`;
}

/** "todos", or the first two chosen pairs and "...". */
export function pairsSummary(preferedActives: string | undefined, allLabel: string): string {
  if (!preferedActives || preferedActives === "todos") return allLabel;
  const pairs = preferedActives.split(",").filter(Boolean);
  return pairs.length > 2 ? `${pairs.slice(0, 2).join(", ")}...` : pairs.join(", ");
}

/** First and last word, as the original showed names and signed strategies. */
export function shortName(name: string | undefined): string {
  const words = (name ?? "").split(/\s+/).filter(Boolean);
  if (words.length <= 1) return words[0] ?? "";
  return `${words[0]} ${words[words.length - 1]}`;
}

/** Epoch seconds as "DD/MM/YYYY HH:mm:ss" (pt-BR) or "YYYY-MM-DD HH:mm:ss" (en), in `timeZone` (default: the device's). */
export function formatDateTime(epochSeconds: number, locale: Locale, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", {
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZone,
  }).formatToParts(new Date(epochSeconds * 1000));
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  const time = `${get("hour")}:${get("minute")}:${get("second")}`;
  return locale === "pt-BR"
    ? `${get("day")}/${get("month")}/${get("year")} ${time}`
    : `${get("year")}-${get("month")}-${get("day")} ${time}`;
}

export function toNumber(value: unknown): number | null {
  const n = typeof value === "string" ? Number.parseFloat(value) : typeof value === "number" ? value : NaN;
  return Number.isFinite(n) ? n : null;
}

/** A money amount typed by the user ("10", "2,50", "2.5"): the number, or null unless it is >= min with at most 2 decimals. */
export function parseMoneyInput(text: string, min = 0): number | null {
  const clean = text.trim().replace(/\s/g, "").replace(",", ".");
  if (!/^\d+(\.\d{1,2})?$/.test(clean)) return null;
  const value = Number(clean);
  return value >= min ? value : null;
}

/** A heartbeat's age in seconds as "0.8 s", "42 s", "3 min", "2 h" (a dash when unknown). */
export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "—";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
