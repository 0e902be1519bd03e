// The user app's texts in Brazilian Portuguese (the original's) and English;
// choosing the language and filling placeholders is shared (apps/shared/src/i18n.ts).

import { createTranslator, type Language } from "../../../shared/src/i18n";
import { en } from "./en";
import { pt } from "./pt";

export { LANGUAGES, STORAGE_KEY, detectLanguage } from "../../../shared/src/i18n";
export type { Language, Params } from "../../../shared/src/i18n";

export type MessageKey = keyof typeof pt;

const dictionaries: Record<Language, Record<MessageKey, string>> = { "pt-BR": pt, en };

/** The text of `key` with {placeholders} filled in. */
export const translate = createTranslator<MessageKey>(dictionaries);

export function dictionary(language: Language): Record<MessageKey, string> {
  return dictionaries[language];
}
