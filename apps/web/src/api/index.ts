// Every API route the app uses, typed. Bodies follow the OpenAPI document at
// /glimpse/openapi.json.

import type { OperationsDoc } from "../lib/operations";
import type { TradeFilters, TradesPage } from "../lib/trades";
import { filterBody } from "../lib/trades";
import { call, conditional, download } from "./client";
import type {
  Account,
  Balances,
  CandlesAnswer,
  BacktestQuery,
  BacktestReport,
  Pair,
  RankRow,
  SignalsDoc,
  StatusAnswer,
  Strategy,
} from "./types";

export * from "./client";
export type * from "./types";

type Updated = { message: string };

export const api = {
  login: (email: string, password: string) =>
    call<{ res: 1; token: string; _id: { $oid: string } } | { res: -1 }>("login", { email, password }),
  logout: () => call<{ res: 1 }>("logout"),
  checkCode: (code: string) => call<{ res: boolean | -1 }>("checkCode", { code }),
  insertUser: (userName: string, userMail: string, userPassword: string, code: string) =>
    call<{ message: string }>("insertUser", { userName, userMail, userPassword, code }),
  requestPasswordReset: (email: string) => call<{ res: 1 }>("requestPasswordReset", { email }),
  resetPassword: (email: string, code: string, newPassword: string) =>
    call<{ res: 1 }>("resetPassword", { email, code, newPassword }),
  changePassword: (currentPassword: string, newPassword: string) =>
    call<{ res: 1; token: string }>("changePassword", { currentPassword, newPassword }),

  getUser: () => call<Account>("getUser"),
  status: () => call<StatusAnswer>("status"),
  /** The status poll: null data (304) while the answer the app holds, named by `etag`, is still good. */
  statusSince: (etag: string | null) => conditional<StatusAnswer>("status", {}, etag),
  updateUser: (fields: string[], values: unknown[]) => call<Updated>("updateUser", { fields, values }),
  set: (field: string, value: unknown) => call<Updated>("updateUser", { fields: [field], values: [value] }),
  checkIq: (email: string, password: string) => call<Balances>("checkIq", { email, password }),
  ativos: (type: "full" | "compact" = "full") => call<Pair[]>("ativos", { type }),

  getStrategies: () => call<Strategy[]>("getStrategies"),
  createStrategy: (body: Omit<Strategy, "createdBy">) => call<{ res: 0 | 1 }>("createStrategy", body),
  editStrategy: (body: Omit<Strategy, "createdBy">) => call<{ res: 0 | 1 }>("editStrategy", body),
  backtestStrategy: (body: BacktestQuery) => call<BacktestReport>("backtestStrategy", body),

  getSignals: () => call<SignalsDoc[]>("getSignals"),
  insertSignals: (signals: { ativo: string; hora: string; operacao: string }[]) =>
    call<{ res: 1 }>("insertSignals", { signals, type: "user" }),
  updateSignal: (id: string, status: "active" | "canceled") => call<{ res: 0 | 1 }>("updateSignal", { id, status }),

  getUserOperations: (limit = 100) => call<OperationsDoc[]>("getUserOperations", { limit }),
  getUserTrades: (filters: TradeFilters, limit = 100, cursor?: string) =>
    call<TradesPage>("getUserTrades", { ...filterBody(filters), limit, ...(cursor ? { cursor } : {}) }),
  exportUserTrades: (filters: TradeFilters) => download("exportUserTrades", filterBody(filters)),
  /** One pair's one-minute candles from `from` to `to` (epoch seconds; the API stops at now). */
  getCandles: (pair: string, from: number, to: number) =>
    call<CandlesAnswer>(`getCandles?${new URLSearchParams({ pair, from: String(Math.floor(from)), to: String(Math.floor(to)) })}`, undefined, "GET"),
  getRank: () => call<RankRow[]>("getRank"),
  getTerms: () => call<{ name: string; value: string }[]>("getTerms"),
};
