// The server's reading of a pasted list (parseSignals, the core parser in
// glimpse/rules/signals.py) and the list's storage from the same text
// (insertSignals {text}), so expiry and per-signal gale go with each signal.

import { call } from "../../api/client";

export interface ServerSignal {
  line: number;
  lines: number[];
  ativo: string;
  hora: string;
  operacao: "call" | "put";
  expiry: number | null;
  gale: number | null;
  date: string | null; // YYYY-MM-DD when the list names the day
  past: boolean;
}

export interface ServerRejection {
  line: number;
  lines: number[];
  text: string;
  code: string; // the parser's codes, plus "past" and "otherDay" (a signal that cannot go in today's list)
  reason: string; // pt-BR, as the server words it
  detail: string | null;
  first_line: number | null;
}

export interface Preview {
  signals: ServerSignal[]; // the ones today's list takes
  rejected: ServerRejection[];
}

export const signalTextApi = {
  parse: (text: string) =>
    call<{ signals: ServerSignal[]; rejected: ServerRejection[]; ignored: unknown[] }>("parseSignals", { text }),
  insert: (text: string) =>
    call<{ res: 0 | 1; exists: boolean; rejected: ServerRejection[] }>("insertSignals", { text, type: "user" }),
};

/** What insertSignals {text} will store: the parsed signals of `today` (market day) whose minute has not begun. */
export function previewOf(
  answer: { signals: ServerSignal[]; rejected: ServerRejection[] },
  text: string,
  today: string,
): Preview {
  const lines = text.split(/\r\n|\r|\n/);
  const rejected = [...answer.rejected];
  const signals: ServerSignal[] = [];
  for (const s of answer.signals) {
    const otherDay = s.date !== null && s.date !== today;
    if (!otherDay && !s.past) {
      signals.push(s);
      continue;
    }
    const numbers = s.lines.length ? s.lines : [s.line];
    rejected.push({
      line: s.line,
      lines: numbers,
      text: numbers.map((n) => lines[n - 1] ?? "").join(" / "),
      code: otherDay ? "otherDay" : "past",
      reason: "",
      detail: otherDay ? s.date : s.hora,
      first_line: null,
    });
  }
  rejected.sort((a, b) => a.line - b.line);
  return { signals, rejected };
}
