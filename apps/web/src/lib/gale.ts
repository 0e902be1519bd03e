// The gale calculator's logic (shared with the core's rule through apps/shared).
export * from "../../../shared/src/gale";
import { galePlan, parseAmountCents, type GalePlan, type GaleType } from "../../../shared/src/gale";

export interface CalculatorInput {
  money: string;
  gale: boolean;
  galeCount: string;
  galeType: GaleType;
  sobra: string;
  payout: string;
}

/** The plan for what the trader has typed so far, or null while an input is not a valid amount. */
export function calculate(input: CalculatorInput): GalePlan | null {
  const stake = parseAmountCents(input.money);
  const sobra = input.galeType === "sobra" ? parseAmountCents(input.sobra || "0") : 0;
  const gales = input.gale ? Number(input.galeCount) : 0;
  const payout = input.payout.trim().replace(",", ".");
  if (stake === null || sobra === null || input.galeCount.trim() === "") return null;
  return galePlan(stake, input.galeType, gales, payout, sobra);
}
