import { describe, expect, it } from "vitest";
import { clockHHMM, isPast, parseSignalList, sortByTime } from "./signals";

const PAIRS = ["EURUSD", "EURUSD-OTC", "GBPUSD", "USDJPY", "AUDCAD-OTC", "EURJPY"];

function one(line: string) {
  const result = parseSignalList(line, PAIRS);
  return result;
}

describe("accepted formats", () => {
  it.each([
    ["M1;EURUSD-OTC;09:30;PUT", { ativo: "EURUSD-OTC", hora: "09:30", operacao: "put" }],
    ["EUR/USD 14:30 CALL", { ativo: "EURUSD", hora: "14:30", operacao: "call" }],
    ["M1,GBPUSD,10:05,call", { ativo: "GBPUSD", hora: "10:05", operacao: "call" }],
    ["USDJPY | 16:45 | PUT", { ativo: "USDJPY", hora: "16:45", operacao: "put" }],
    ["EUR/USD - 14:30:00 - PUT", { ativo: "EURUSD", hora: "14:30", operacao: "put" }],
    ["09:30;EURJPY;CALL;M1", { ativo: "EURJPY", hora: "09:30", operacao: "call" }],
    ["03/06/2024;9:05;AUDCAD-OTC;PUT", { ativo: "AUDCAD-OTC", hora: "09:05", operacao: "put" }],
    ["EURUSD OTC 11:00 put", { ativo: "EURUSD-OTC", hora: "11:00", operacao: "put" }],
    ["eur/usd-otc;12:00;CALL", { ativo: "EURUSD-OTC", hora: "12:00", operacao: "call" }],
    ["🔴 EURUSD 13:15 VENDA 1M", { ativo: "EURUSD", hora: "13:15", operacao: "put" }],
    ["GBPUSD\t17:20\tCOMPRA", { ativo: "GBPUSD", hora: "17:20", operacao: "call" }],
    ["M1 EURUSD 23:59:59 CALL", { ativo: "EURUSD", hora: "23:59", operacao: "call" }],
  ])("%s", (line, expected) => {
    const { signals, rejected } = one(line);
    expect(rejected).toEqual([]);
    expect(signals).toEqual([{ line: 1, ...expected }]);
  });

  it("parses a whole list, skipping blank lines and numbering lines as pasted", () => {
    const text = "M1;EURUSD;09:30;PUT\r\n\r\nM1;GBPUSD;09:35;CALL\n   \nM1;USDJPY;09:40;CALL\n";
    const { signals, rejected } = parseSignalList(text, PAIRS);
    expect(rejected).toEqual([]);
    expect(signals.map((s) => [s.line, s.ativo])).toEqual([
      [1, "EURUSD"],
      [3, "GBPUSD"],
      [5, "USDJPY"],
    ]);
  });
});

describe("rejected lines", () => {
  it.each([
    ["M1;EURUSD;09:30", { code: "noDirection" }],
    ["EURUSD CALL", { code: "noTime" }],
    ["09:30 PUT", { code: "noPair" }],
    ["M1;XYZABC;09:30;PUT", { code: "unknownPair", text: "XYZABC" }],
    ["M1;EURUSD;25:30;PUT", { code: "badTime", text: "25:30" }],
    ["M1;EURUSD;09:75;PUT", { code: "badTime", text: "09:75" }],
    ["M5;EURUSD;09:30;PUT", { code: "expiry", text: "M5" }],
    ["EURUSD 09:30 PUT 15MIN", { code: "expiry", text: "15MIN" }],
    ["EURUSD 09:30 PUT soon", { code: "unrecognized", text: "soon" }],
    ["Lista VIP de hoje", { code: "unrecognized", text: "Lista" }],
    ["EURUSD GBPUSD 09:30 PUT", { code: "manyPairs" }],
    ["EURUSD 09:30 09:35 PUT", { code: "manyTimes" }],
    ["EURUSD 09:30 PUT CALL", { code: "manyDirections" }],
  ])("%s", (line, reason) => {
    const { signals, rejected } = one(line);
    expect(signals).toEqual([]);
    expect(rejected).toEqual([{ line: 1, text: line, reason }]);
  });

  it("keeps the good lines and reports the bad one with its line number", () => {
    const text = ["M1;EURUSD;09:30;PUT", "M1;EURUSD;9.30;PUT", "M1;GBPUSD;09:35;CALL"].join("\n");
    const { signals, rejected } = parseSignalList(text, PAIRS);
    expect(signals.map((s) => s.ativo)).toEqual(["EURUSD", "GBPUSD"]);
    expect(rejected).toEqual([{ line: 2, text: "M1;EURUSD;9.30;PUT", reason: { code: "unrecognized", text: "9.30" } }]);
  });

  it("rejects a repeated signal, naming the first line", () => {
    const { signals, rejected } = parseSignalList("EURUSD 09:30 PUT\nEUR/USD;09:30:00;put", PAIRS);
    expect(signals).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ line: 2, reason: { code: "duplicate", line: 1 } });
  });

  it("only knows the pairs it is given", () => {
    expect(parseSignalList("EURUSD 09:30 PUT", ["GBPUSD"]).rejected[0].reason).toEqual({
      code: "unknownPair",
      text: "EURUSD",
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
