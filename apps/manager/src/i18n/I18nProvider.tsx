import type { Params } from "../../../shared/src/i18n";
import { createI18n } from "../../../shared/src/react/i18n";
import { catalog } from "./catalog";
import type { MessageKey } from "./pt";

export type Translate = (key: MessageKey, params?: Params) => string;

export const { I18nProvider, useI18n } = createI18n(catalog);
