// The user app's texts in Brazilian Portuguese (the original's) and English;
// choosing the language and filling placeholders is shared (apps/shared/src/i18n.ts).

import { createCatalog } from "../../../shared/src/i18n";
import { pt } from "./pt";

export { LANGUAGES, STORAGE_KEY, detectLanguage } from "../../../shared/src/i18n";
export type { Language, Params } from "../../../shared/src/i18n";

export type MessageKey = keyof typeof pt;

/**
 * pt-BR sits in the entry chunk; English is a chunk of its own, fetched only when it is the
 * language to show: most users read pt-BR on a phone and never download it.
 */
export const catalog = createCatalog<MessageKey>(pt, { en: () => import("./en").then((m) => m.en) });
