// The chart's own texts, kept beside it: the shared dictionaries (i18n/pt.ts,
// en.ts) are edited by several people at once, and these words are the chart's.

import type { Language } from "../../i18n/core";

const pt = {
  live: "{pair} ao vivo (horário de {tz})",
  cycle: "Velas de {pair}, da entrada ao fechamento (horário de {tz})",
  loading: "Carregando o gráfico…",
  unavailable: "Gráfico indisponível agora.",
  noCandles: "Sem velas para este período.",
  entry: "Entrada",
  gale: "Gale {n}",
  expires: "expira {time}",
  running: "em andamento",
  win: "vitória",
  loss: "derrota",
  doji: "doji",
  unknown: "a confirmar",
  marks: "Entradas do Glimpse",
};

const en: typeof pt = {
  live: "{pair} live ({tz} time)",
  cycle: "{pair} candles, from the entry to the settlement ({tz} time)",
  loading: "Loading the chart…",
  unavailable: "The chart is unavailable right now.",
  noCandles: "No candles for this period.",
  entry: "Entry",
  gale: "Gale {n}",
  expires: "expires {time}",
  running: "running",
  win: "win",
  loss: "loss",
  doji: "doji",
  unknown: "to be confirmed",
  marks: "Glimpse's entries",
};

export type ChartTextKey = keyof typeof pt;

/** The text of `key` in `language`, with {placeholders} filled in. */
export function chartText(language: Language, key: ChartTextKey, params: Record<string, string | number> = {}): string {
  const template = (language === "en" ? en : pt)[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}
