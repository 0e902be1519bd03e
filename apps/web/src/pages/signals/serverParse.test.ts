import { describe, expect, it } from "vitest";
import { previewOf, type ServerSignal } from "./serverParse";

const signal = (line: number, hora: string, extra: Partial<ServerSignal> = {}): ServerSignal => ({
  line,
  lines: [line],
  ativo: "EURUSD",
  hora,
  operacao: "call",
  expiry: null,
  gale: null,
  date: null,
  past: false,
  ...extra,
});

describe("the list a paste will store", () => {
  it("keeps today's signals still to come and reports past and other days' ones", () => {
    const text = "EURUSD 09:00 CALL\nEURUSD 15:00 CALL\n28/11 EURUSD 15:05 CALL\nXX\nEURUSD 15:10 CALL";
    const answer = {
      signals: [
        signal(1, "09:00", { past: true }),
        signal(2, "15:00", { expiry: 5, gale: 1 }),
        signal(3, "15:05", { date: "2026-11-28" }),
        signal(5, "15:10", { date: "2026-11-27" }),
      ],
      rejected: [
        { line: 4, lines: [4], text: "XX", code: "noTime", reason: "falta o horário", detail: null, first_line: null },
      ],
    };
    const preview = previewOf(answer, text, "2026-11-27");
    expect(preview.signals.map((s) => [s.line, s.expiry, s.gale])).toEqual([
      [2, 5, 1],
      [5, null, null],
    ]);
    expect(preview.rejected.map((r) => [r.line, r.code, r.detail, r.text])).toEqual([
      [1, "past", "09:00", "EURUSD 09:00 CALL"],
      [3, "otherDay", "2026-11-28", "28/11 EURUSD 15:05 CALL"],
      [4, "noTime", null, "XX"],
    ]);
  });

  it("joins the lines of a signal written over several lines", () => {
    const text = "EURUSD\n09:00\nCALL";
    const preview = previewOf({ signals: [signal(1, "09:00", { lines: [1, 2, 3], past: true })], rejected: [] }, text, "2026-11-27");
    expect(preview.rejected[0].text).toBe("EURUSD / 09:00 / CALL");
  });
});
