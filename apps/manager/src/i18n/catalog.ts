import { createCatalog } from "../../../shared/src/i18n";
import { pt, type MessageKey } from "./pt";

/** pt-BR sits in the entry chunk; English is a chunk of its own, fetched only when it is the language to show. */
export const catalog = createCatalog<MessageKey>(pt, { en: () => import("./en").then((m) => m.en) });
