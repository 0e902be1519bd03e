// Languages: Brazilian Portuguese (the original's) and English. Each app has
// its own dictionaries; the choice of language, placeholders and fallbacks
// are shared here.

export type Language = "pt-BR" | "en";
export type Params = Record<string, string | number>;

export const LANGUAGES: Language[] = ["pt-BR", "en"];
export const STORAGE_KEY = "glimpse.lang";

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

/** `text` with its {placeholders} filled in; unknown ones stay as they are. */
export function fill(text: string, params?: Params): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** A translate function over one dictionary per language, falling back to pt-BR, then to the key. */
export function createTranslator<K extends string>(dictionaries: Record<Language, Record<K, string>>) {
  return (language: Language, key: K, params?: Params): string =>
    fill(dictionaries[language][key] ?? dictionaries["pt-BR"][key] ?? key, params);
}

/** Keys missing from, or with other placeholders than, the reference dictionary (for tests). */
export function dictionaryProblems<K extends string>(reference: Record<K, string>, other: Record<string, string>): string[] {
  const problems: string[] = [];
  const holes = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort().join(",");
  for (const key of Object.keys(reference) as K[]) {
    const text = other[key];
    if (text === undefined || text.trim() === "") problems.push(`missing ${key}`);
    else if (holes(text) !== holes(reference[key])) problems.push(`placeholders of ${key}`);
  }
  for (const key of Object.keys(other)) if (!(key in reference)) problems.push(`extra ${key}`);
  return problems;
}
