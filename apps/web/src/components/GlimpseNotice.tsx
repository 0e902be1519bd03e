import { useI18n } from "../i18n/I18nProvider";
import { GLIMPSE_MM } from "../lib/gale";
import { formatMoney } from "../lib/format";

/** Said plainly: a strategy written by Glimpse trades with its own money management, not the trader's. */
export default function GlimpseNotice({ strategy }: { strategy: string }) {
  const { t, language } = useI18n();
  return (
    <p className="glimpse-notice" role="note" data-testid="glimpse-notice">
      {t("glimpse.ownMoney", {
        strategy,
        money: formatMoney(GLIMPSE_MM.money, language),
        gales: GLIMPSE_MM.galeCount,
        sobra: formatMoney(GLIMPSE_MM.sobra, language),
      })}
    </p>
  );
}
