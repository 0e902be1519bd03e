// Languages: Brazilian Portuguese (the original's) and English. The choice is
// kept in localStorage; without one, the browser's language decides.

import { en } from "./en";
import { pt } from "./pt";

export type MessageKey = keyof typeof pt;
export type Language = "pt-BR" | "en";
export type Params = Record<string, string | number>;

export const LANGUAGES: Language[] = ["pt-BR", "en"];
export const STORAGE_KEY = "glimpse.lang";

const dictionaries: Record<Language, Record<MessageKey, string>> = { "pt-BR": pt, en };

/** The stored choice if valid, else pt-BR for any Portuguese browser language, else English. */
export function detectLanguage(stored: string | null, browserLanguages: readonly string[]): Language {
  if (stored === "pt-BR" || stored === "en") return stored;
  for (const tag of browserLanguages) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("pt")) return "pt-BR";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

/** The text of `key` with {placeholders} filled in. */
export function translate(language: Language, key: MessageKey, params?: Params): string {
  const text = dictionaries[language][key] ?? dictionaries["pt-BR"][key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export function dictionary(language: Language): Record<MessageKey, string> {
  return dictionaries[language];
}
