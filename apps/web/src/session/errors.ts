import { ApiError } from "../api";
import type { Translate } from "../i18n/I18nProvider";

/** A message for the user from any failure: translated for the common cases, the server's words otherwise. */
export function describeError(error: unknown, t: Translate): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return t("error.network");
    if (error.status === 429) return t("error.throttled");
    if (error.status === 401) return t("error.session");
    if (error.status >= 500) return t("error.server");
    if (error.message) return error.message;
  }
  console.error(error);
  return t("error.unexpected");
}
