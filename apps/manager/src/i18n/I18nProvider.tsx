import { createTranslator, type Params } from "../../../shared/src/i18n";
import { createI18n } from "../../../shared/src/react/i18n";
import { en } from "./en";
import { pt, type MessageKey } from "./pt";

export type Translate = (key: MessageKey, params?: Params) => string;

export const { I18nProvider, useI18n } = createI18n(createTranslator<MessageKey>({ "pt-BR": pt, en }));
