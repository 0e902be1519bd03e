// The React side of the i18n core (../i18n.ts), the same in both apps: the chosen language in a
// context, remembered on the device and set on <html lang>. Each app passes its own dictionaries.
// React comes from the app that builds this file (its vite `resolve.dedupe` and tsconfig `paths`),
// so both apps keep one React each and apps/shared declares no dependency on it.

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { STORAGE_KEY, detectLanguage, type Language, type Params } from "../i18n";

export interface I18n<K extends string> {
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

/** The provider and hook over one app's translate function (createTranslator's). */
export function createI18n<K extends string>(translate: (language: Language, key: K, params?: Params) => string) {
  const I18nContext = createContext<I18n<K> | null>(null);

  function I18nProvider({ children }: { children: ReactNode }) {
    const [language, setLanguageState] = useState<Language>(initialLanguage);

    useEffect(() => {
      document.documentElement.lang = language;
    }, [language]);

    const setLanguage = useCallback((next: Language) => {
      localStorage.setItem(STORAGE_KEY, next);
      setLanguageState(next);
    }, []);

    const value = useMemo<I18n<K>>(
      () => ({ language, setLanguage, t: (key, params) => translate(language, key, params) }),
      [language, setLanguage],
    );
    return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
  }

  function useI18n(): I18n<K> {
    const i18n = useContext(I18nContext);
    if (!i18n) throw new Error("useI18n outside I18nProvider");
    return i18n;
  }

  return { I18nProvider, useI18n };
}
