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

/** pt-BR's dictionary and those of the other languages that are at hand. */
export type Dictionaries<K extends string> = { "pt-BR": Record<K, string> } & Partial<Record<Language, Record<K, string>>>;

/** A translate function over one dictionary per language, falling back to pt-BR, then to the key. */
export function createTranslator<K extends string>(dictionaries: Dictionaries<K>) {
  return (language: Language, key: K, params?: Params): string =>
    fill(dictionaries[language]?.[key] ?? dictionaries["pt-BR"][key] ?? key, params);
}

/** An app's texts: pt-BR at hand, the other languages fetched on first use. */
export interface Catalog<K extends string> {
  translate: (language: Language, key: K, params?: Params) => string;
  /** Whether `language`'s dictionary is at hand. */
  has: (language: Language) => boolean;
  /** True once `language` can be shown; false when its dictionary failed to load (the next call tries again). */
  load: (language: Language) => Promise<boolean>;
}

/**
 * The catalog over pt-BR's dictionary and loaders for the others. A loader is a dynamic import
 * (`() => import("./en").then((m) => m.en)`), so the bundler puts that language in a chunk of its
 * own: most users read pt-BR and never download the English texts.
 */
export function createCatalog<K extends string>(
  pt: Record<K, string>,
  loaders: Partial<Record<Language, () => Promise<Record<K, string>>>>,
): Catalog<K> {
  const dictionaries: Dictionaries<K> = { "pt-BR": pt };
  const pending = new Map<Language, Promise<boolean>>();
  const has = (language: Language) => dictionaries[language] !== undefined;
  function load(language: Language): Promise<boolean> {
    if (has(language)) return Promise.resolve(true);
    const loader = loaders[language];
    if (!loader) return Promise.resolve(false);
    let loading = pending.get(language);
    if (!loading) {
      loading = loader().then(
        (dictionary) => {
          dictionaries[language] = dictionary;
          return true;
        },
        () => false,
      );
      // Forgotten once settled: after a failure (offline, a deploy replaced the chunk) the next choice retries.
      void loading.then(() => pending.delete(language));
      pending.set(language, loading);
    }
    return loading;
  }
  return { translate: createTranslator(dictionaries), has, load };
}

/**
 * Shows chosen languages through `show`, each once its dictionary is at hand: until then the screen
 * keeps its language (never raw keys), a choice overtaken by a later one is dropped, and a dictionary
 * that fails to load leaves the screen as it was (pt-BR when nothing was shown yet).
 */
export function createLanguageChooser<K extends string>(catalog: Catalog<K>, show: (language: Language) => void) {
  let wanted: Language | null = null;
  let shown: Language | null = null;
  const display = (language: Language) => {
    shown = language;
    show(language);
  };
  return (next: Language): void => {
    wanted = next;
    if (catalog.has(next)) {
      display(next);
      return;
    }
    void catalog.load(next).then((loaded) => {
      if (wanted !== next) return;
      if (loaded) display(next);
      else if (shown === null) display("pt-BR");
    });
  };
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
