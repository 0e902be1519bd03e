import { useI18n } from "../../i18n/I18nProvider";
import { formatMoney, formatSignedMoney } from "../../lib/format";
import { calculate, type CalculatorInput } from "../../lib/gale";

/** Stake per level and what the cycle nets, at the chosen payout, recomputed on every keystroke. */
export default function GaleCalculator({ input, onPayout }: { input: CalculatorInput; onPayout: (value: string) => void }) {
  const { t, language } = useI18n();
  const plan = calculate(input);
  const money = (cents: number) => formatMoney(cents / 100, language);
  return (
    <section className="gale-calculator ion-padding" data-testid="gale-calculator" aria-live="polite">
      <h2>{t("calc.title")}</h2>
      <label className="calc-payout">
        {t("calc.payout")}
        <input name="calc-payout" inputMode="decimal" value={input.payout} onChange={(e) => onPayout(e.target.value)} size={5} />%
      </label>
      {plan === null ? (
        <p className="empty">{t("calc.invalid")}</p>
      ) : (
        <>
          <table className="data">
            <thead>
              <tr>
                <th>{t("trades.level")}</th>
                <th>{t("trades.stake")}</th>
                <th>{t("calc.ifWon")}</th>
              </tr>
            </thead>
            <tbody>
              {plan.entries.map((cents, level) => (
                <tr key={level} data-testid="calc-level">
                  <td>{level === 0 ? t("glimpse.entry") : t("glimpse.gale", { n: level })}</td>
                  <td>{money(cents)}</td>
                  <td>{formatSignedMoney(plan.wins[level] / 100, language)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            {t("calc.worst")}: <strong className="loss" data-testid="calc-worst">{formatSignedMoney(plan.worstCase / 100, language)}</strong>
          </p>
        </>
      )}
    </section>
  );
}
