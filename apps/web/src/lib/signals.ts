// The app's preview of a pasted signal list. The server's parser
// (glimpse/rules/signals.py, exposed as parseSignals) is the one that counts;
// this is a line-for-line port of its rules so the sheet can show accepted and
// rejected lines while the trader types, and it is held to the same corpus
// (tests/fixtures/signals/corpus.json) by signals.test.ts. Change both together.
//
// Every line ends up in a signal (a signal may span lines: `lines`), in
// `rejected` with a reason code, or ignored as decoration (headers, footers,
// hashtags, emoji rulers, and notes such as "LISTA M5 27/11" that set the
// defaults of the lines below them).

export type Direction = "call" | "put";

export interface ParsedSignal {
  line: number; // 1-based first line of the signal in the pasted text
  lines: number[]; // every line the signal was read from
  ativo: string;
  hora: string; // "HH:MM", in the market's time zone
  operacao: Direction;
  expiry: number | null; // minutes; null when the list names none
  gale: number | null; // the signal's own gale cap; null when it names none
  date: string | null; // YYYY-MM-DD when the list names the day
  past: boolean; // its minute has begun at `options.now`
  utcOffset: number | null; // minutes, as the list declared its zone (UTC-3: -180)
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
  lines: number[];
  text: string;
  reason: RejectReason;
}

export interface IgnoredLine {
  line: number;
  kind: "blank" | "decoration" | "note";
}

export interface ParseResult {
  signals: ParsedSignal[];
  rejected: RejectedLine[];
  ignored: IgnoredLine[];
}

export interface ParseOptions {
  today?: string; // YYYY-MM-DD: the year of dates written without one (default: now's day)
  now?: string; // YYYY-MM-DDTHH:MM[:SS], the market's wall clock, for `past`
  marketUtcOffset?: number; // minutes; lists declaring another zone are moved to it
  expiries?: number[]; // traded expiries, minutes
}

export const SUPPORTED_EXPIRIES = [1, 5, 15];
const BRASILIA_OFFSET = -180;

const CURRENCIES = new Set(
  "EUR USD GBP JPY CHF CAD AUD NZD BRL MXN CNY CNH HKD SGD INR ZAR TRY SEK NOK DKK PLN RUB XAU XAG BTC ETH LTC XRP".split(" "),
);
const FLAG_CURRENCY: Record<string, string> = {
  EU: "EUR",
  US: "USD",
  GB: "GBP",
  JP: "JPY",
  CH: "CHF",
  CA: "CAD",
  AU: "AUD",
  NZ: "NZD",
  BR: "BRL",
  MX: "MXN",
};
const WORD_DIRECTIONS: Record<string, Direction> = {
  CALL: "call",
  PUT: "put",
  COMPRA: "call",
  VENDA: "put",
  ACIMA: "call",
  ABAIXO: "put",
  UP: "call",
  DOWN: "put",
  BUY: "call",
  SELL: "put",
};
// Accents are stripped before reading, and the emoji variation selector with them.
const EMOJI_DIRECTIONS: Record<string, Direction> = {
  "\u{1F53C}": "call",
  "\u2B06": "call",
  "\u2197": "call",
  "\u2191": "call",
  "\u23EB": "call",
  "\u{1F53A}": "call",
  "\u{1F7E2}": "call",
  "\u{1F7E9}": "call",
  "\u{1F4C8}": "call",
  "\u{1F53D}": "put",
  "\u2B07": "put",
  "\u2198": "put",
  "\u2193": "put",
  "\u23EC": "put",
  "\u{1F53B}": "put",
  "\u{1F534}": "put",
  "\u{1F7E5}": "put",
  "\u{1F4C9}": "put",
};
const RESULT_MARKS = new Set(["\u2705", "\u2714", "\u2611", "\u274C", "\u2716", "\u274E"]);
const RESULT_WORDS = new Set("WIN WINS LOSS LOSE GREEN RED HIT DOJI EMPATE GAIN SG".split(" "));
const CANCEL_WORDS = new Set("CANCELADO CANCELADA CANCELAR CANCELED CANCELLED ANULADO ANULADA EVITAR EVITE".split(" "));
const FILLER = new Set(
  `A AS AO ATE E O OS NO NA NOS NAS EM DE DO DA DOS DAS PARA PRA POR COM MAX MAXIMO MAXIMA
   ATIVO ATIVOS PAR PARES PARIDADE MOEDA HORARIO HORARIOS HORA HORAS ENTRADA ENTRADAS
   DIRECAO ORDEM OPERACAO OPERACOES EXPIRACAO EXPIRA PERIODO TIMEFRAME TF TEMPO VELA VELAS
   PROTECAO PROTECOES GALE GALES MARTINGALE MARTINGALES MG SINAL SINAIS LISTA LISTAS VIP FREE
   OPCAO OPCOES BINARIA BINARIAS DIGITAL TURBO HOJE DIA DATA MINUTO MINUTOS MIN FUSO
   OFICIAL BRASIL ENTRAR ENTRE OPERAR NOVO NOVA CONFIRMADO CONFIRMADA AGORA
   UTILIZAR USAR USE FAZER FACA EXP CASO SE NECESSARIO NECESSARIA
   ASSET PAIR TIME DIRECTION EXPIRY EXPIRATION ENTRY SIGNAL SIGNALS AT ON THE LIST NEW
   IQ OPTION IQOPTION CATALOGACAO CATALOGADOR CATALOGADA RESULTADO RESULTADOS`
    .split(/\s+/)
    .filter(Boolean),
);

const TZ_RE = /(?:UTC|GMT)\s?([+\-\u2212])\s?(\d{1,2})(?::?(\d{2}))?(?![0-9])/uy;
const TZ_ZERO_RE = /(?:UTC|GMT)(?![A-Z0-9+\-\u2212])/uy;
const BRASILIA_RE = /(?:HORA(?:RIO)?\s(?:OFICIAL\s)?DE\s)?BRASILIA(?![A-Z0-9])|BRT(?![A-Z0-9])/uy;
const ISO_DATE_RE = /(\d{4})-(\d{1,2})-(\d{1,2})(?![0-9])/uy;
const DMY_RE = /(\d{1,2})\/(\d{1,2})(?:\/(\d{4}|\d{2}))?(?![0-9/])|(\d{1,2})-(\d{1,2})-(\d{4})(?![0-9])/uy;
const TIME_RE = /(\d{1,2})[:H](\d{2})(?::(\d{2}))?(?![0-9])/uy;
// "às 14h": a whole hour (1H to 4H are expiries)
const HOUR_RE = /(\d{1,2})H(?![A-Z0-9])/uy;
const DOT_TIME_RE = /\d{1,2}\.\d{2}(?![0-9.])/uy;
const EXPIRY_RE =
  /M(\d{1,3})(?![A-Z0-9])|H([1-4])(?![A-Z0-9])|(\d{1,3})\s?(?:MINUTOS|MINUTO|MINS|MIN|M)(?![A-Z0-9])|([1-4])\s?(?:HORAS|HORA|H)(?![A-Z0-9])/uy;
const GALE_RE =
  /(?:MARTINGALES|MARTINGALE|GALES|GALE|MG|G|PROTECOES|PROTECAO)\s?:?\s?(?:ATE\s)?(\d)(?![0-9A-Z])|(\d)\s?[\u00AA\u00BA\u00B0]?\s?(?:MARTINGALES|MARTINGALE|GALES|GALE|MG|G|PROTECOES|PROTECAO|POSICOES|POSICAO|REENTRADAS|REENTRADA)(?![A-Z0-9])|(SEM)\s(?:MARTINGALES|MARTINGALE|GALES|GALE|PROTECOES|PROTECAO)(?![A-Z0-9])/uy;
const PAIR_RE = /([A-Z]{3})(?:\s?\/\s?)?([A-Z]{3})(\s?[-_]\s?OTC|\s?\(\s?OTC\s?\)|\s(?:OTC))?(?![A-Z0-9])/uy;
const FLAG_RE = /([\u{1F1E6}-\u{1F1FF}])([\u{1F1E6}-\u{1F1FF}])/uy;
const WORD_RE = /[A-Z0-9]+/uy;
const SEPARATORS = new Set([..." \t;,|:=>*_-\u2013\u2014~.()[]{}\"'`!?#@/\\+"]);

// ------------------------------------------------------------------ dates

type Day = { y: number; m: number; d: number };

function dayNumber(day: Day): number {
  return Date.UTC(day.y, day.m - 1, day.d) / 86_400_000;
}

function makeDay(y: number, m: number, d: number): Day | null {
  if (m < 1 || m > 12 || d < 1 || y < 1) return null;
  const probe = new Date(Date.UTC(y, m - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d ? { y, m, d } : null;
}

function addDays(day: Day, n: number): Day {
  const t = new Date((dayNumber(day) + n) * 86_400_000);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

function isoDay(day: Day): string {
  return `${String(day.y).padStart(4, "0")}-${String(day.m).padStart(2, "0")}-${String(day.d).padStart(2, "0")}`;
}

function parseDay(text: string): Day | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  return m ? makeDay(Number(m[1]), Number(m[2]), Number(m[3])) : null;
}

/** The date, or null when it does not exist. A day without a year is the one nearest `today`. */
function dayOf(d: number, m: number, year: number | null, today: Day | null): Day | null {
  if (year !== null) return makeDay(year, m, d);
  if (today === null) return null;
  let best: Day | null = null;
  for (const y of [today.y - 1, today.y, today.y + 1]) {
    const candidate = makeDay(y, m, d);
    if (!candidate) continue;
    if (best === null || Math.abs(dayNumber(candidate) - dayNumber(today)) < Math.abs(dayNumber(best) - dayNumber(today))) {
      best = candidate;
    }
  }
  return best;
}

// --------------------------------------------------------------- one line

interface Line {
  number: number;
  text: string;
  pairs: string[];
  badPairs: string[];
  flags: string[];
  times: string[];
  badTimes: string[];
  wordDirs: Direction[];
  emojiDirs: Direction[];
  expiries: number[];
  gales: number[];
  dates: Day[];
  badDates: string[];
  offsets: number[];
  otc: boolean;
  cancel: string | null;
  unknown: string[];
  galeSteps: number[]; // "Gale 1: 10:01", "1ª proteção - 10:01"
}

function unique<T>(values: T[]): T[] {
  return values.filter((v, i) => values.indexOf(v) === i);
}

function pairValues(line: Line): string[] {
  const named = unique([...line.pairs, ...line.badPairs]);
  if (named.length) return named;
  if (line.flags.length >= 2) return [line.flags[0] + line.flags[1]];
  return [];
}

function directions(line: Line): Direction[] {
  const chosen = line.wordDirs.length ? line.wordDirs : line.emojiDirs;
  return (["call", "put"] as Direction[]).filter((d) => chosen.includes(d));
}

function core(line: Line): Set<string> {
  const kinds = new Set<string>();
  if (pairValues(line).length) kinds.add("pair");
  if (line.times.length || line.badTimes.length) kinds.add("time");
  if (directions(line).length) kinds.add("dir");
  return kinds;
}

function hasContext(line: Line): boolean {
  return Boolean(
    line.expiries.length || line.gales.length || line.dates.length || line.badDates.length || line.otc || line.offsets.length,
  );
}

function normalize(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toUpperCase();
}

function sticky(re: RegExp, s: string, i: number): RegExpExecArray | null {
  re.lastIndex = i;
  return re.exec(s);
}

function withOtc(pairs: string[], known: Set<string>): [string[], string[]] {
  const good: string[] = [];
  const bad: string[] = [];
  for (const p of pairs) {
    const name = p.endsWith("-OTC") ? p : `${p}-OTC`;
    (known.has(name) ? good : bad).push(name);
  }
  return [good, bad];
}

function readLine(number: number, raw: string, known: Set<string>, today: Day | null): Line {
  const s = normalize(raw);
  const out: Line = {
    number,
    text: raw.trim(),
    pairs: [],
    badPairs: [],
    flags: [],
    times: [],
    badTimes: [],
    wordDirs: [],
    emojiDirs: [],
    expiries: [],
    gales: [],
    dates: [],
    badDates: [],
    offsets: [],
    otc: false,
    cancel: null,
    unknown: [],
    galeSteps: [],
  };
  let inResult = false;
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i)!;
    const c = String.fromCodePoint(cp);
    if (/\s/u.test(c) || SEPARATORS.has(c)) {
      i += c.length;
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = sticky(TZ_RE, s, i))) {
      const sign = m[1] === "-" || m[1] === "\u2212" ? -1 : 1;
      out.offsets.push(sign * (Number(m[2]) * 60 + Number(m[3] ?? 0)));
      i += m[0].length;
      continue;
    }
    if ((m = sticky(TZ_ZERO_RE, s, i))) {
      out.offsets.push(0);
      i += m[0].length;
      continue;
    }
    if ((m = sticky(BRASILIA_RE, s, i))) {
      out.offsets.push(BRASILIA_OFFSET);
      i += m[0].length;
      continue;
    }
    if ((m = sticky(ISO_DATE_RE, s, i))) {
      const d = dayOf(Number(m[3]), Number(m[2]), Number(m[1]), today);
      if (d) out.dates.push(d);
      else out.badDates.push(m[0]);
      i += m[0].length;
      continue;
    }
    if ((m = sticky(DMY_RE, s, i))) {
      let d: Day | null;
      if (m[1] !== undefined) {
        const yearText = m[3];
        const year = yearText === undefined ? null : Number(yearText) + (yearText.length === 2 ? 2000 : 0);
        d = dayOf(Number(m[1]), Number(m[2]), year, today);
      } else {
        d = dayOf(Number(m[4]), Number(m[5]), Number(m[6]), today);
      }
      if (d) out.dates.push(d);
      else out.badDates.push(m[0]);
      i += m[0].length;
      continue;
    }
    if ((m = sticky(TIME_RE, s, i))) {
      const [h, mi, sec] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
      if (h > 23 || mi > 59 || sec > 59) out.badTimes.push(m[0]);
      else out.times.push(`${String(h).padStart(2, "0")}:${String(mi).padStart(2, "0")}`);
      inResult = false;
      i += m[0].length;
      continue;
    }
    if ((m = sticky(DOT_TIME_RE, s, i))) {
      out.badTimes.push(m[0]);
      i += m[0].length;
      continue;
    }
    if ((m = sticky(GALE_RE, s, i))) {
      if (!inResult) out.gales.push(m[3] ? 0 : Number(m[1] ?? m[2]));
      i += m[0].length;
      continue;
    }
    if ((m = sticky(EXPIRY_RE, s, i))) {
      if (m[1] || m[3]) out.expiries.push(Number(m[1] ?? m[3]));
      else out.expiries.push(Number(m[2] ?? m[4]) * 60);
      i += m[0].length;
      continue;
    }
    if ((m = sticky(HOUR_RE, s, i))) {
      if (Number(m[1]) > 23) out.badTimes.push(m[0]);
      else out.times.push(`${m[1].padStart(2, "0")}:00`);
      inResult = false;
      i += m[0].length;
      continue;
    }
    m = sticky(PAIR_RE, s, i);
    if (m && CURRENCIES.has(m[1]) && CURRENCIES.has(m[2])) {
      const name = m[1] + m[2] + (m[3] ? "-OTC" : "");
      (known.has(name) ? out.pairs : out.badPairs).push(name);
      inResult = false;
      i += m[0].length;
      continue;
    }
    if ((m = sticky(FLAG_RE, s, i))) {
      const country =
        String.fromCharCode(m[1].codePointAt(0)! - 0x1f1e6 + 65) + String.fromCharCode(m[2].codePointAt(0)! - 0x1f1e6 + 65);
      const currency = FLAG_CURRENCY[country];
      if (currency) out.flags.push(currency);
      i += m[0].length;
      continue;
    }
    if ((m = sticky(WORD_RE, s, i))) {
      const word = m[0];
      i += word.length;
      if (word in WORD_DIRECTIONS) {
        out.wordDirs.push(WORD_DIRECTIONS[word]);
        inResult = false;
      } else if (RESULT_WORDS.has(word)) inResult = true;
      else if (word === "OTC") out.otc = true;
      else if (CANCEL_WORDS.has(word)) out.cancel = out.cancel ?? word;
      else if (!/^[0-9]+$/.test(word) && !FILLER.has(word)) out.unknown.push(word);
      continue;
    }
    if (c in EMOJI_DIRECTIONS) out.emojiDirs.push(EMOJI_DIRECTIONS[c]);
    else if (RESULT_MARKS.has(c)) inResult = true;
    i += c.length;
  }
  if (out.otc && out.pairs.length + out.badPairs.length) {
    // "OTC EURUSD", "EURUSD ... OTC": the word belongs to the line's pair
    [out.pairs, out.badPairs] = withOtc([...out.pairs, ...out.badPairs], known);
    out.otc = false;
  }
  return out;
}

// ------------------------------------------------------ lines into signals

type Field = "pair" | "time" | "dir" | "expiry" | "gale" | "date";

function fieldValues(line: Line, name: Field): unknown[] {
  switch (name) {
    case "pair":
      return pairValues(line);
    case "time":
      return [...line.times, ...line.badTimes];
    case "dir":
      return directions(line);
    case "expiry":
      return line.expiries;
    case "gale":
      return line.gales;
    case "date":
      return [...line.dates, ...line.badDates];
  }
}

const FIELDS: Field[] = ["pair", "time", "dir", "expiry", "gale", "date"];

function blockValues(block: Line[], name: Field): unknown[] {
  return block.flatMap((line) => fieldValues(line, name));
}

function complete(block: Line[]): boolean {
  return (["pair", "time", "dir"] as Field[]).every((k) => blockValues(block, k).length > 0);
}

/** Whether `line` adds fields the block lacks, and none it already has. */
function takes(block: Line[], line: Line): boolean {
  return FIELDS.every((name) => !(fieldValues(line, name).length && blockValues(block, name).length));
}

function lineConflict(line: Line): RejectReason | null {
  if (pairValues(line).length > 1) return { code: "manyPairs" };
  if (unique([...line.times, ...line.badTimes]).length > 1) return { code: "manyTimes" };
  if (directions(line).length > 1) return { code: "manyDirections" };
  const expiries = unique(line.expiries);
  if (expiries.length > 1) return { code: "expiry", text: expiries.map((e) => `M${e}`).join(" / ") };
  const gales = unique(line.gales);
  if (gales.length > 1) return { code: "unrecognized", text: gales.map((g) => `G${g}`).join(" / ") };
  const days = unique([...line.dates.map(isoDay), ...line.badDates]);
  if (days.length > 1) return { code: "unrecognized", text: days.join(" / ") };
  return null;
}

/** A line giving a gale's entry time under its signal ("Gale 1: 10:01"). */
function isGaleStep(line: Line): boolean {
  return (
    line.gales.length > 0 &&
    line.times.length + line.badTimes.length > 0 &&
    !pairValues(line).length &&
    !directions(line).length
  );
}

function shift(hora: string, day: Day | null, minutes: number): [string, Day | null] {
  const total = Number(hora.slice(0, 2)) * 60 + Number(hora.slice(3)) + minutes;
  const days = Math.floor(total / 1440);
  const rest = total - days * 1440;
  const text = `${String(Math.floor(rest / 60)).padStart(2, "0")}:${String(rest % 60).padStart(2, "0")}`;
  return [text, day === null ? null : addDays(day, days)];
}

/**
 * Parse a pasted signal list. `knownPairs` are the pair names the API accepts
 * (EURUSD, EURUSD-OTC...).
 */
export function parseSignalList(text: string, knownPairs: Iterable<string>, options: ParseOptions = {}): ParseResult {
  const known = new Set(knownPairs);
  const expiries = options.expiries ?? SUPPORTED_EXPIRIES;
  const market = options.marketUtcOffset ?? null;
  const nowMatch = options.now ? /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(options.now) : null;
  const nowDay = nowMatch ? parseDay(nowMatch[1]) : null;
  const nowSeconds =
    nowMatch && nowDay
      ? dayNumber(nowDay) * 86_400 + Number(nowMatch[2]) * 3600 + Number(nowMatch[3]) * 60 + Number(nowMatch[4] ?? 0)
      : null;
  const today = options.today ? parseDay(options.today) : nowDay;
  const result: ParseResult = { signals: [], rejected: [], ignored: [] };
  const defaults: { expiry: number | null; gale: number | null; date: Day | null; otc: boolean; offset: number | null } = {
    expiry: null,
    gale: null,
    date: null,
    otc: false,
    offset: null,
  };
  const seen = new Map<string, ParsedSignal>();
  let pending: Line[] = [];

  const reject = (lines: Line[], reason: RejectReason) =>
    result.rejected.push({
      line: lines[0].number,
      lines: lines.map((l) => l.number),
      text: lines.map((l) => l.text).join(" / "),
      reason,
    });

  function finish(lines: Line[]): void {
    const badTime = lines.find((l) => l.badTimes.length);
    if (badTime) return void reject(lines, { code: "badTime", text: badTime.badTimes[0] });
    const badDate = lines.find((l) => l.badDates.length);
    if (badDate) return void reject(lines, { code: "unrecognized", text: badDate.badDates[0] });
    const pairs = blockValues(lines, "pair") as string[];
    const times = blockValues(lines, "time") as string[];
    const dirs = blockValues(lines, "dir") as Direction[];
    if (!pairs.length) return void reject(lines, { code: "noPair" });
    if (!times.length) return void reject(lines, { code: "noTime" });
    if (!dirs.length) return void reject(lines, { code: "noDirection" });
    const cancel = lines.find((l) => l.cancel)?.cancel;
    if (cancel) return void reject(lines, { code: "unrecognized", text: cancel });
    let ativo = pairs[0];
    if ((lines.some((l) => l.otc) || defaults.otc) && !ativo.endsWith("-OTC")) ativo += "-OTC";
    if (!known.has(ativo)) return void reject(lines, { code: "unknownPair", text: ativo });
    const lineExpiries = blockValues(lines, "expiry") as number[];
    const expiry = lineExpiries.length ? lineExpiries[0] : defaults.expiry;
    if (expiry !== null && !expiries.includes(expiry)) return void reject(lines, { code: "expiry", text: `M${expiry}` });
    const lineGales = blockValues(lines, "gale") as number[];
    const steps = lines.flatMap((l) => l.galeSteps);
    const gale = lineGales.length ? lineGales[0] : steps.length ? Math.max(...steps) : defaults.gale;
    const lineDays = lines.flatMap((l) => l.dates);
    let day = lineDays.length ? lineDays[0] : defaults.date;
    const offsets = lines.flatMap((l) => l.offsets);
    const offset = offsets.length ? offsets[0] : defaults.offset;
    let hora = times[0];
    if (market !== null && offset !== null && offset !== market) [hora, day] = shift(hora, day, market - offset);
    let past = false;
    if (nowSeconds !== null && nowDay) {
      const start = dayNumber(day ?? nowDay) * 86_400 + Number(hora.slice(0, 2)) * 3600 + Number(hora.slice(3)) * 60;
      past = start <= nowSeconds;
    }
    const signal: ParsedSignal = {
      line: lines[0].number,
      lines: lines.map((l) => l.number),
      ativo,
      hora,
      operacao: dirs[0],
      expiry,
      gale,
      date: day ? isoDay(day) : null,
      past,
      utcOffset: offset,
    };
    const key = `${signal.date ?? ""}|${ativo}|${hora}`;
    const first = seen.get(key);
    if (first) return void reject(lines, { code: "duplicate", line: first.line });
    seen.set(key, signal);
    result.signals.push(signal);
  }

  function flush(): void {
    const block = pending;
    pending = [];
    if (block.length) finish(block);
  }

  function setDefaults(line: Line): void {
    if (line.expiries.length) defaults.expiry = line.expiries[line.expiries.length - 1];
    if (line.gales.length) defaults.gale = line.gales[line.gales.length - 1];
    if (line.dates.length) defaults.date = line.dates[line.dates.length - 1];
    if (line.otc) defaults.otc = true;
    if (line.offsets.length) defaults.offset = line.offsets[line.offsets.length - 1];
  }

  text.split(/\r\n|\r|\n/).forEach((raw, index) => {
    const number = index + 1;
    if (!raw.trim()) {
      // a message may space out the lines of one signal; a one-line signal ends here
      if (complete(pending) && pending.length === 1) flush();
      result.ignored.push({ line: number, kind: "blank" });
      return;
    }
    const line = readLine(number, raw, known, today);
    if (isGaleStep(line) && blockValues(pending, "time").length) {
      // the time on this line is the gale's entry, not a signal's
      [line.galeSteps, line.gales, line.times, line.badTimes] = [line.gales, [], [], []];
      pending.push(line);
      return;
    }
    if (isGaleStep(line) && !pending.length) {
      result.ignored.push({ line: number, kind: "decoration" }); // gale times of no signal
      return;
    }
    const kinds = core(line);
    // "🟢🟢🟢" is a ruler, but "Direção: 🔼" completes the signal being written
    const onlyEmojiDir =
      kinds.size === 1 &&
      kinds.has("dir") &&
      !line.wordDirs.length &&
      !(pending.length && !complete(pending) && takes(pending, line));
    const prose = kinds.size === 1 && line.unknown.length > 0;
    const conflict = lineConflict(line);
    if (!kinds.size || onlyEmojiDir || prose || (conflict !== null && kinds.size < 2)) {
      if (line.offsets.length && !kinds.size) defaults.offset = line.offsets[line.offsets.length - 1];
      if (kinds.size || !hasContext(line) || line.unknown.length || line.cancel) {
        result.ignored.push({ line: number, kind: "decoration" });
        return;
      }
      // a note: it completes the signal being written, or sets the list's defaults
      if (pending.length && (!complete(pending) || pending.length > 1) && takes(pending, line)) {
        pending.push(line);
        return;
      }
      flush();
      setDefaults(line);
      result.ignored.push({ line: number, kind: "note" });
      return;
    }
    if (conflict !== null) {
      flush();
      reject([line], conflict);
      return;
    }
    if (pending.length && (complete(pending) || !takes(pending, line))) flush();
    pending.push(line);
  });
  flush();
  return result;
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
