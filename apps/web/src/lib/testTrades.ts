// A closed winning trade row for the unit tests (trades, chart): each test changes only what it is about.

import type { TradeRow } from "./trades";

export function tradeRow(id: string, fields: Partial<TradeRow>): TradeRow {
  return {
    _id: id,
    ativo: "EURUSD",
    operacao: "call",
    galeLevel: 0,
    amount: 2,
    payout: 87,
    openPrice: 1.1,
    closePrice: 1.2,
    result: "win",
    profit: 1.74,
    status: "closed",
    decidedAt: 100,
    ...fields,
  };
}
