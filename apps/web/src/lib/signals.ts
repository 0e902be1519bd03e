// The signal-list parser: free text pasted from a signal group into
// {ativo, hora, operacao} rows. Every line is either accepted or rejected with
// a reason; nothing is stored half-filled, as the original did.

export type Direction = "call" | "put";

export interface ParsedSignal {
  line: number; // 1-based line in the pasted text
  ativo: string;
  hora: string; // "HH:MM", in the market's time zone
  operacao: Direction;
}

export type RejectReason =
  | { code: "unrecognized"; text: string }
  | { code: "badTime"; text: string }
  | { code: "unknownPair"; text: string }
  | { code: "expiry"; text: string }
  | { code: "noPair" }
  | { code: "noTime" }
  | { code: "noDirection" }
  | { code: "manyPairs" }
  | { code: "manyTimes" }
  | { code: "manyDirections" }
  | { code: "duplicate"; line: number };

export interface RejectedLine {
  line: number;
  text: string;
  reason: RejectReason;
}

export interface ParseResult {
  signals: ParsedSignal[];
  rejected: RejectedLine[];
}

const DIRECTIONS: Record<string, Direction> = {
  CALL: "call",
  PUT: "put",
  COMPRA: "call",
  VENDA: "put",
  BUY: "call",
  SELL: "put",
  UP: "call",
  DOWN: "put",
};

const TIME = /^(\d{1,2})[:hH](\d{2})(?::(\d{2}))?$/;
// M1, M5, H1, 1M, 5MIN: the order's expiry
const EXPIRY = /^(?:([MH])(\d{1,3})|(\d{1,3})(M|MIN|H))$/;
const DATE = /^(?:\d{1,2}\/\d{1,2}(?:\/\d{2,4})?|\d{4}-\d{2}-\d{2}|\d{1,2}-\d{1,2}-\d{2,4})$/;
const PAIR = /^([A-Z]{3})\/?([A-Z]{3})(?:[-_]?(OTC))?$/;

/** Tokens of one line: fields split on ; , | tabs, spaces and a free-standing dash. */
function tokens(line: string): string[] {
  return line
    .replace(/[;,|\t]/g, " ")
    .split(/\s+/)
    .map((t) => t.replace(/^[()[\]{}"'.:]+|[()[\]{}"'.:]+$/g, ""))
    .filter((t) => /[\p{L}\p{N}]/u.test(t)); // emoji, arrows and dashes are decoration
}

function expiryMinutes(m: RegExpExecArray): number {
  const [, unitA, numA, numB, unitB] = m;
  const unit = unitA ?? unitB;
  const n = Number(numA ?? numB);
  return unit === "H" ? n * 60 : n;
}

function parseLine(text: string, known: Set<string>): { signal?: Omit<ParsedSignal, "line">; reason?: RejectReason } {
  const pairs: string[] = [];
  const times: string[] = [];
  const directions: Direction[] = [];
  const words = tokens(text);
  for (let i = 0; i < words.length; i++) {
    const upper = words[i].toUpperCase();
    const time = TIME.exec(upper);
    if (time) {
      const [h, m, s] = [Number(time[1]), Number(time[2]), time[3] === undefined ? 0 : Number(time[3])];
      if (h > 23 || m > 59 || s > 59) return { reason: { code: "badTime", text: words[i] } };
      times.push(`${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);
      continue;
    }
    const expiry = EXPIRY.exec(upper);
    if (expiry) {
      // the bots place 1-minute orders; a list for longer expiries would be traded wrongly
      if (expiryMinutes(expiry) !== 1) return { reason: { code: "expiry", text: words[i] } };
      continue;
    }
    if (DATE.test(upper)) continue; // lists often carry their day; the signal times are today's
    if (upper in DIRECTIONS) {
      directions.push(DIRECTIONS[upper]);
      continue;
    }
    if (upper === "OTC" && pairs.length > 0 && !pairs[pairs.length - 1].endsWith("-OTC")) {
      pairs[pairs.length - 1] += "-OTC"; // "EURUSD OTC"
      continue;
    }
    const pair = PAIR.exec(upper);
    if (pair) {
      const name = `${pair[1]}${pair[2]}${pair[3] ? "-OTC" : ""}`;
      if (!known.has(name)) return { reason: { code: "unknownPair", text: words[i] } };
      pairs.push(name);
      continue;
    }
    return { reason: { code: "unrecognized", text: words[i] } };
  }
  if (pairs.length > 1) return { reason: { code: "manyPairs" } };
  if (times.length > 1) return { reason: { code: "manyTimes" } };
  if (directions.length > 1) return { reason: { code: "manyDirections" } };
  if (pairs.length === 0) return { reason: { code: "noPair" } };
  if (times.length === 0) return { reason: { code: "noTime" } };
  if (directions.length === 0) return { reason: { code: "noDirection" } };
  return { signal: { ativo: pairs[0], hora: times[0], operacao: directions[0] } };
}

/**
 * Parse a pasted signal list. `knownPairs` are the pair names the API accepts
 * (EURUSD, EURUSD-OTC...). Blank lines are skipped; every other line ends up
 * in `signals` or in `rejected` with the reason.
 */
export function parseSignalList(text: string, knownPairs: Iterable<string>): ParseResult {
  const known = new Set(knownPairs);
  const signals: ParsedSignal[] = [];
  const rejected: RejectedLine[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n|\r/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (!trimmed) return;
    const { signal, reason } = parseLine(trimmed, known);
    if (!signal) {
      rejected.push({ line, text: trimmed, reason: reason! });
      return;
    }
    const key = `${signal.hora} ${signal.ativo} ${signal.operacao}`;
    const first = seen.get(key);
    if (first !== undefined) {
      rejected.push({ line, text: trimmed, reason: { code: "duplicate", line: first } });
      return;
    }
    seen.set(key, line);
    signals.push({ line, ...signal });
  });
  return { signals, rejected };
}

/** Signals in the order the day runs (by time, then pair). */
export function sortByTime<T extends { hora: string; ativo: string }>(signals: T[]): T[] {
  return [...signals].sort((a, b) => a.hora.localeCompare(b.hora) || a.ativo.localeCompare(b.ativo));
}

/** Whether a signal's "HH:MM" is already past at `nowHHMM` ("HH:MM" in the same zone). */
export function isPast(hora: string, nowHHMM: string): boolean {
  return hora < nowHHMM;
}

/** The wall-clock "HH:MM" of an epoch time in a time zone (the market's, for signals). */
export function clockHHMM(epochSeconds: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone })
    .formatToParts(new Date(epochSeconds * 1000));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return `${get("hour")}:${get("minute")}`;
}
