// The React side of the i18n core (../i18n.ts), the same in both apps: the chosen language in a
// context, remembered on the device and set on <html lang>. Each app passes its own catalog: pt-BR
// in its entry chunk, English fetched (a chunk of its own) only when it is the language to show.
// React comes from the app that builds this file (its vite `resolve.dedupe` and tsconfig `paths`),
// so both apps keep one React each and apps/shared declares no dependency on it.

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { STORAGE_KEY, createLanguageChooser, detectLanguage, type Catalog, type Language, type Params } from "../i18n";

export interface I18n<K extends string> {
  /** The language on screen (a chosen one shows once its texts have arrived). */
  language: Language;
  setLanguage: (language: Language) => void;
  t: (key: K, params?: Params) => string;
}

function initialLanguage(): Language {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // storage disabled: follow the browser
  }
  return detectLanguage(stored, navigator.languages?.length ? navigator.languages : [navigator.language]);
}

/** The provider and hook over one app's catalog (createCatalog's). */
export function createI18n<K extends string>(catalog: Catalog<K>) {
  const I18nContext = createContext<I18n<K> | null>(null);

  function I18nProvider({ children }: { children: ReactNode }) {
    const [first] = useState(initialLanguage);
    // null only while the first language's texts are on their way.
    const [language, setShown] = useState<Language | null>(() => (catalog.has(first) ? first : null));
    const [choose] = useState(() => createLanguageChooser(catalog, setShown));

    useEffect(() => {
      choose(first);
    }, [choose, first]);

    useEffect(() => {
      if (language) document.documentElement.lang = language;
    }, [language]);

    const setLanguage = useCallback(
      (next: Language) => {
        try {
          localStorage.setItem(STORAGE_KEY, next);
        } catch {
          // storage disabled: the choice lasts until the page closes
        }
        // A switch keeps the current texts on screen until the new ones arrive (one small chunk).
        choose(next);
      },
      [choose],
    );

    const value = useMemo<I18n<K> | null>(
      () => language && { language, setLanguage, t: (key, params) => catalog.translate(language, key, params) },
      [language, setLanguage],
    );
    // A user who chose English (or whose phone is in English) gets nothing drawn for the moment the
    // English texts take to arrive, rather than a Portuguese screen that turns English under their
    // thumb: a blank instant reads as the app starting, a screen whose words and buttons change
    // reads as a glitch and can take a tap meant for something else. The wait is one small chunk
    // (the user app preloads its dashboard's chunks meanwhile); if it cannot be fetched the app
    // starts in pt-BR.
    if (!value) return null;
    return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
  }

  function useI18n(): I18n<K> {
    const i18n = useContext(I18nContext);
    if (!i18n) throw new Error("useI18n outside I18nProvider");
    return i18n;
  }

  return { I18nProvider, useI18n };
}
