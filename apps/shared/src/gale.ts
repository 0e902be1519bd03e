// The gale plan of a cycle, ported from the core rule (glimpse/rules/money.py:
// gale_entries, cycle_nets, win_profit) so the app can show the risk as the
// trader types. Money is integer cents and every division rounds half up to a
// cent, the way the core does; the payout may carry decimals ("87.5"), so the
// arithmetic is done on BigInt fractions, never on floats. Held to cases the
// core computes (fixtures/gale_cases.json, kept equal to the rule by
// tests/api/test_trader_gale_fixture.py).

export type GaleType = "dobro" | "cobrir" | "sobra";
export const MAX_GALES = 10;

/** A non-negative decimal ("87.5") as numerator / 10^scale. */
interface Decimal {
  n: bigint;
  scale: bigint; // 10^digits
}

function decimal(text: string): Decimal | null {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const frac = m[2] ?? "";
  return { n: BigInt(m[1] + frac), scale: 10n ** BigInt(frac.length) };
}

/** num / den rounded half up, both positive (or num zero). */
function roundHalfUp(num: bigint, den: bigint): bigint {
  const q = num / den;
  return (num - q * den) * 2n >= den ? q + 1n : q;
}

export interface GalePlan {
  /** The stake of each level: the entry, then each gale (cents). */
  entries: number[];
  /** The cycle's net if it is won at each level (cents). */
  wins: number[];
  /** The cycle's net when every level loses (cents, negative): the worst case. */
  worstCase: number;
}

/**
 * The stakes of one cycle and what it nets, as glimpse.rules.money computes them.
 * `stakeCents` and `sobraCents` are cents; `payout` the payout in percent as text or number ("87.5").
 * Null when an input is out of the rule's range.
 */
export function galePlan(
  stakeCents: number,
  galeType: GaleType,
  gales: number,
  payout: string | number,
  sobraCents = 0,
): GalePlan | null {
  const p = decimal(String(payout));
  if (!p || p.n <= 0n) return null;
  if (!Number.isInteger(stakeCents) || stakeCents <= 0) return null;
  if (!Number.isInteger(sobraCents) || sobraCents < 0) return null;
  if (!Number.isInteger(gales) || gales < 0 || gales > MAX_GALES) return null;
  if (!["dobro", "cobrir", "sobra"].includes(galeType)) return null;
  const entries: bigint[] = [BigInt(stakeCents)];
  for (let i = 0; i < gales; i++) {
    const previous = entries.reduce((a, b) => a + b, 0n);
    if (galeType === "dobro") entries.push(entries[entries.length - 1] * 2n);
    // cents(sum / (payout / 100)) = round(sum_cents * 100 * scale / n)
    else if (galeType === "cobrir") entries.push(roundHalfUp(previous * 100n * p.scale, p.n));
    else entries.push(roundHalfUp((previous + BigInt(sobraCents)) * 100n * p.scale, p.n));
  }
  const wins: number[] = [];
  let lost = 0n;
  for (const entry of entries) {
    // win_profit: cents(entry × payout / 100)
    const profit = roundHalfUp(entry * p.n, 100n * p.scale);
    wins.push(Number(profit - lost));
    lost += entry;
  }
  return { entries: entries.map(Number), wins, worstCase: -Number(lost) };
}

/**
 * A money amount as typed, in either convention: "1.234,56", "1234,56", "1,234.56", "1234.56",
 * "2,5", "10". A lone separator followed by exactly three digits groups thousands ("1.234" is 1234);
 * otherwise it is the decimal mark. At most 2 decimals. Cents, or null when it is not an amount.
 */
export function parseAmountCents(text: string): number | null {
  const clean = text.trim().replace(/^R\$\s*/i, "").replace(/\s/g, "");
  if (!/^[\d.,]+$/.test(clean) || !/\d/.test(clean)) return null;
  const lastDot = clean.lastIndexOf(".");
  const lastComma = clean.lastIndexOf(",");
  let whole: string;
  let frac = "";
  if (lastDot >= 0 && lastComma >= 0) {
    const mark = lastDot > lastComma ? "." : ",";
    const group = mark === "." ? "," : ".";
    const at = clean.lastIndexOf(mark);
    whole = clean.slice(0, at);
    frac = clean.slice(at + 1);
    if (!/^\d{1,3}(\d{3})*$/.test(whole.split(group).join("")) || !groupedThousands(whole, group)) return null;
    whole = whole.split(group).join("");
  } else if (lastDot >= 0 || lastComma >= 0) {
    const mark = lastDot >= 0 ? "." : ",";
    const parts = clean.split(mark);
    if (parts.length > 2 || parts[parts.length - 1].length === 3) {
      // thousands: 1.234 / 1.234.567 / 1,234
      if (!groupedThousands(clean, mark)) return null;
      whole = parts.join("");
    } else {
      [whole, frac] = parts;
    }
  } else {
    whole = clean;
  }
  if (!/^\d+$/.test(whole) || !/^\d{0,2}$/.test(frac)) return null;
  const cents = Number(whole) * 100 + Number((frac + "00").slice(0, 2));
  return Number.isSafeInteger(cents) ? cents : null;
}

function groupedThousands(text: string, group: string): boolean {
  const parts = text.split(group);
  return /^\d{1,3}$/.test(parts[0]) && parts.slice(1).every((p) => /^\d{3}$/.test(p));
}

/** Who signs the strategies that trade with their own money management (glimpse.rules.money.GLIMPSE_AUTHOR). */
export const GLIMPSE_AUTHOR = "Glimpse";
/** That money management (glimpse.rules.money.GLIMPSE_MM; a test keeps the two equal). */
export const GLIMPSE_MM = { money: 2, gale: true, galeCount: 1, galeType: "sobra", sobra: 1 } as const;
