import type { Signal } from "../../api";
import type { TradeRow } from "../../lib/trades";

/** What a traded signal came to: its cycle's last gale level, total stake and net (reais). */
export interface SignalOutcome {
  level: number;
  stake: number;
  net: number;
}

export interface Tally {
  wins: number;
  losses: number;
  /** Wins by the level they came at: [SG, G1, G2, ...]. */
  byLevel: number[];
  /** "5x1": wins x losses, the traders' notation. */
  score: string;
  /** "SG 3, G1 1, G2 1, Hit 1": wins by level, then the losses ("Hit": every gale lost). */
  levels: string;
}

function minuteAfter(epochSeconds: number, timeZone: string): string {
  const start = (Math.floor(epochSeconds / 60) + 1) * 60;
  const parts = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone })
    .formatToParts(new Date(start * 1000));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return `${get("hour")}:${get("minute")}`;
}

/**
 * Each signal's cycle, matched in the ledger: its entry is the level-0 trade on the signal's pair and
 * direction decided just before the signal's minute; its gales share the entry's cycle.
 */
export function outcomesBySignal(signals: Signal[], trades: TradeRow[], timeZone: string): Map<string, SignalOutcome> {
  const byCycle = new Map<string, TradeRow[]>();
  for (const t of trades) if (t.cycle) byCycle.set(t.cycle, [...(byCycle.get(t.cycle) ?? []), t]);
  const found = new Map<string, SignalOutcome>();
  for (const s of signals) {
    if (s.status !== "result") continue;
    const entry = trades.find(
      (t) =>
        t.galeLevel === 0 &&
        t.ativo === s.ativo &&
        t.operacao === s.operacao &&
        minuteAfter(t.decidedAt, timeZone) === s.hora,
    );
    if (!entry) continue;
    const cycle = entry.cycle ? byCycle.get(entry.cycle) ?? [entry] : [entry];
    let stake = 0;
    let net = 0;
    for (const t of cycle) {
      stake += Math.round(t.amount * 100);
      if (typeof t.profit === "number") net += Math.round(t.profit * 100);
    }
    found.set(s.id, { level: Math.max(...cycle.map((t) => t.galeLevel)), stake: stake / 100, net: net / 100 });
  }
  return found;
}

/** The running tally of a signal list: wins x losses, and the wins by level. */
export function tally(signals: Signal[], outcomes: Map<string, SignalOutcome>): Tally {
  let wins = 0;
  let losses = 0;
  const byLevel: number[] = [];
  for (const s of signals) {
    if (s.status !== "result") continue;
    if (s.resultado === "win") {
      wins += 1;
      const level = outcomes.get(s.id)?.level ?? 0;
      while (byLevel.length <= level) byLevel.push(0);
      byLevel[level] += 1;
    } else if (s.resultado === "loss") {
      losses += 1;
    }
  }
  const parts = byLevel.map((n, level) => (n ? `${level === 0 ? "SG" : `G${level}`} ${n}` : "")).filter(Boolean);
  if (losses) parts.push(`Hit ${losses}`);
  return { wins, losses, byLevel, score: `${wins}x${losses}`, levels: parts.join(", ") };
}
