import { describe, expect, it } from "vitest";
import corpus from "../../../../tests/fixtures/signals/corpus.json";
import { clockHHMM, isPast, parseSignalList, sortByTime, type ParseResult } from "./signals";

// The same corpus the server's parser passes (tests/rules/test_signal_parser.py).
interface CaseSignal {
  line: number;
  ativo: string;
  hora: string;
  operacao: string;
  expiry?: number | null;
  gale?: number | null;
  date?: string | null;
  past?: boolean;
  utc_offset?: number | null;
  lines?: number[];
}
interface CaseRejection {
  line: number;
  code: string;
  detail?: string | null;
  first_line?: number | null;
  lines?: number[];
}
interface Case {
  name: string;
  input: string;
  now?: string;
  signals: CaseSignal[];
  rejected: CaseRejection[];
}

const CASES = corpus.cases as Case[];

function run(c: Case): ParseResult {
  return parseSignalList(c.input, corpus.pairs, {
    today: corpus.options.today,
    now: c.now,
    marketUtcOffset: corpus.options.market_utc_offset,
  });
}

function lineCount(text: string): number {
  return text.split(/\r\n|\r|\n/).length;
}

describe("the shared corpus", () => {
  it("is the one the server is held to", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    expect(corpus.pairs).toContain("EURUSD-OTC");
  });

  it.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const result = run(c);
    expect(
      result.signals.map((s) => ({
        line: s.line,
        lines: s.lines,
        ativo: s.ativo,
        hora: s.hora,
        operacao: s.operacao,
        expiry: s.expiry,
        gale: s.gale,
        date: s.date,
        past: s.past,
        utc_offset: s.utcOffset,
      })),
    ).toEqual(
      c.signals.map((s) => ({
        line: s.line,
        lines: s.lines ?? [s.line],
        ativo: s.ativo,
        hora: s.hora,
        operacao: s.operacao,
        expiry: s.expiry ?? null,
        gale: s.gale ?? null,
        date: s.date ?? null,
        past: s.past ?? false,
        utc_offset: s.utc_offset ?? null,
      })),
    );
    expect(
      result.rejected.map((r) => ({
        line: r.line,
        lines: r.lines,
        code: r.reason.code,
        detail: "text" in r.reason ? r.reason.text : null,
        first_line: "line" in r.reason ? r.reason.line : null,
      })),
    ).toEqual(
      c.rejected.map((r) => ({
        line: r.line,
        lines: r.lines ?? [r.line],
        code: r.code,
        detail: r.detail ?? null,
        first_line: r.first_line ?? null,
      })),
    );
    // every line is a signal's, a rejection's or ignored, exactly once
    const accounted = [
      ...result.signals.flatMap((s) => s.lines),
      ...result.rejected.flatMap((r) => r.lines),
      ...result.ignored.map((i) => i.line),
    ].sort((a, b) => a - b);
    expect(accounted).toEqual(Array.from({ length: lineCount(c.input) }, (_, i) => i + 1));
  });
});

describe("preview details", () => {
  it("keeps the text of a rejected line for the sheet", () => {
    const { rejected } = parseSignalList("M1;EURUSD;09:30;PUT\nM1;EURUSD;9.30;PUT", corpus.pairs);
    expect(rejected).toEqual([
      { line: 2, lines: [2], text: "M1;EURUSD;9.30;PUT", reason: { code: "badTime", text: "9.30" } },
    ]);
  });

  it("only knows the pairs it is given", () => {
    expect(parseSignalList("EURUSD 09:30 PUT", ["GBPUSD"]).rejected[0].reason).toEqual({
      code: "unknownPair",
      text: "EURUSD",
    });
  });

  it("traded expiries can be narrowed", () => {
    expect(parseSignalList("M5 EURUSD 09:30 PUT", corpus.pairs, { expiries: [1] }).rejected[0].reason).toEqual({
      code: "expiry",
      text: "M5",
    });
  });
});

describe("signal times", () => {
  it("sorts by time and tells past signals", () => {
    const sorted = sortByTime([
      { hora: "10:00", ativo: "B" },
      { hora: "09:00", ativo: "Z" },
      { hora: "10:00", ativo: "A" },
    ]);
    expect(sorted.map((s) => s.hora + s.ativo)).toEqual(["09:00Z", "10:00A", "10:00B"]);
    expect(isPast("09:59", "10:00")).toBe(true);
    expect(isPast("10:00", "10:00")).toBe(false);
  });

  it("reads the market clock in its zone", () => {
    expect(clockHHMM(1717419600, "America/Sao_Paulo")).toBe("10:00");
    expect(clockHHMM(1717419600, "UTC")).toBe("13:00");
  });
});
