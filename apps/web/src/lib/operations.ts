// The operation history: the bots write one Operations document per session,
// each holding its cycles (one entry order and its gales). The app lists the
// cycles, newest first.

export interface CandleData {
  o: number;
  c: number;
  h?: number;
  l?: number;
  from?: number;
}

export interface OrderLog {
  a?: number; // the price when the order was placed
  p: number | string; // cash result, or a note such as "SLR: 6.0" / "CLO: 2"
}

export interface CycleLog {
  ativo: string;
  horario: number;
  operacao: "call" | "put";
  money: number;
  cycle?: string; // the cycle's id in the ledger (Trades.cycle)
  candles?: CandleData[][];
  operacoes?: OrderLog[];
}

export interface OperationsDoc {
  _id?: { $oid: string };
  operationTime?: number;
  operationType?: "strategy" | "signals";
  strategy?: string;
  accountType?: string;
  expiration?: number;
  operations?: CycleLog[];
}

export interface Cycle {
  key: string;
  cycleId?: string;
  ativo: string;
  horario: number;
  operacao: "call" | "put";
  money: number;
  strategy: string | null; // null: signals mode
  accountType: string;
  expiration: number;
  candles: CandleData[];
  orders: OrderLog[];
  profit: number;
}

/** A cycle's result: the sum of its orders' numeric results (notes are skipped), in whole cents. */
export function cycleProfit(orders: OrderLog[] | undefined): number {
  let cents = 0;
  for (const order of orders ?? []) {
    if (typeof order.p === "number" && Number.isFinite(order.p)) cents += Math.round(order.p * 100);
  }
  return cents / 100;
}

/** Every cycle of every session, newest first. */
export function flattenCycles(docs: OperationsDoc[]): Cycle[] {
  const cycles: Cycle[] = [];
  docs.forEach((doc, d) => {
    (doc.operations ?? []).forEach((op, i) => {
      if (!op || typeof op.horario !== "number") return;
      cycles.push({
        key: `${doc._id?.$oid ?? d}-${i}`,
        ...(typeof op.cycle === "string" && op.cycle ? { cycleId: op.cycle } : {}),
        ativo: op.ativo,
        horario: op.horario,
        operacao: op.operacao,
        money: op.money,
        strategy: doc.operationType === "strategy" ? doc.strategy ?? "" : null,
        accountType: doc.accountType ?? "",
        expiration: doc.expiration ?? 1,
        candles: (op.candles?.[0] ?? []).filter((c) => Number.isFinite(c?.o) && Number.isFinite(c?.c)),
        orders: op.operacoes ?? [],
        profit: cycleProfit(op.operacoes),
      });
    });
  });
  return cycles.sort((a, b) => b.horario - a.horario);
}

export interface Point {
  t: number;
  value: number;
}

/** The running total of the cycles' results, oldest first (cents-exact). */
export function cumulative(cycles: Cycle[]): Point[] {
  let cents = 0;
  return [...cycles]
    .sort((a, b) => a.horario - b.horario)
    .map((c) => {
      cents += Math.round(c.profit * 100);
      return { t: c.horario, value: cents / 100 };
    });
}

export type OrderNote = { kind: "stopLoss" | "pairClosed"; amount: number | null } | { kind: "other"; text: string };

/** The bots' notes in `operacoes[].p`: "SLR: <sum>" (stop loss reached), "CLO: <sum>" (the pair closed). */
export function readNote(text: string): OrderNote {
  const m = /^(SLR|CLO):\s*(-?\d+(?:\.\d+)?)?\s*$/.exec(text.trim());
  if (!m) return { kind: "other", text };
  return { kind: m[1] === "SLR" ? "stopLoss" : "pairClosed", amount: m[2] === undefined ? null : Number(m[2]) };
}
