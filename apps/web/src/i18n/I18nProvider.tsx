import { createI18n } from "../../../shared/src/react/i18n";
import { catalog, type MessageKey, type Params } from "./core";

export type Translate = (key: MessageKey, params?: Params) => string;

export const { I18nProvider, useI18n } = createI18n(catalog);
