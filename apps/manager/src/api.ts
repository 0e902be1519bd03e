// Every manager route the app uses. The lists page with `limit` and `cursor`
// (the cursor of the next page comes back in a header; see apps/shared/src/http.ts).

import { catalogRoutes } from "../../shared/src/catalog";
import { managerCopyRoutes } from "../../shared/src/copy";
import { createClient, type Page } from "../../shared/src/http";

export { ApiError } from "../../shared/src/http";
export type { Page } from "../../shared/src/http";
export type { Followable } from "../../shared/src/copy";

const BASE = String(import.meta.env.VITE_API_BASE ?? "");

// Its own key: a manager and a trader can be logged in side by side in one browser.
const client = createClient({ base: BASE, tokenKey: "glimpse.manager.token" });
export const { getToken, setToken, clearToken, onUnauthorized } = client;

export type Oid = { $oid: string };
export type Role = "admin" | "support";
export type Status = "off" | "waiting" | "assigning" | "operating" | "stopping";
type Res = { res: 0 | 1 };

export const idOf = (id: Oid | string | undefined): string => (typeof id === "string" ? id : (id?.$oid ?? ""));

export interface UserRow {
  _id: Oid;
  name: string;
  email: string;
  glimpseStatus: Status;
  premiumDays: number;
  blocked: boolean;
  mode?: string;
  strategy?: string;
  iqAccountType?: string;
  iqPeriodProfit?: number;
  iqPeriodLoss?: number;
  iqSessionProfit?: number;
}

export interface Alert {
  title: string;
  description: string;
  time: string;
  read: boolean;
}

export interface UserDetail {
  user: (UserRow & { alerts?: Alert[]; operating?: Record<string, unknown>; settings?: unknown; server?: string }) | null;
  openTrades: Trade[];
  server: { name: string; status: string; uptime: number } | null;
}

export interface Trade {
  _id: Oid;
  user: string;
  ativo: string;
  operacao: string;
  amount: number;
  galeLevel: number;
  decidedAt: number;
  result: string | null;
  profit: number | null;
  status: string;
  mode?: "strategy" | "signals" | "copy" | null; // absent on trades recorded before the ledger kept the mode
}

export interface Overview {
  now: number;
  lease: number;
  users: Record<Status, number>;
  blocked: number;
  servers: { name: string; status: string; target: string; age: number; alive: boolean; preferential?: boolean; drain?: boolean }[];
  services: { name: string; age: number; alive: boolean }[];
  today: { orders: number; win: number; loss: number; doji: number; failed: number; open: number; net: number; since: number };
  perHour: { hour: number; orders: number; net: number }[];
}

export interface Code {
  code: string;
  valid: boolean;
  usedBy: string;
  usedWhen: number;
  premiumDays: number;
  revoked?: boolean;
}

export interface AuditRecord {
  _id: Oid;
  who: string;
  target: string;
  didWhat: string;
  from: unknown;
  to: unknown;
  when: number;
}

export interface Question {
  _id: Oid;
  who: string;
  question: string;
  when: number;
  answer?: string;
  answeredBy?: string;
}

export interface Manager {
  _id: Oid;
  user: string;
  name: string;
  rol: Role;
  disabled: boolean;
}

export interface Strategy {
  _id?: Oid;
  name: string;
  createdBy: string;
  sequence: string;
  operation: "call" | "put";
  mirror: boolean;
}

export interface Auxiliar {
  name: string;
  value: unknown;
  message?: string;
}

export type Query = Record<string, string | number | boolean | undefined>;

/** The filters without empty values: the server reads an absent filter as "any". */
export function cleanQuery(query: Query): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === "") continue;
    out[key] = value;
  }
  return out;
}

const page = <T,>(route: string) => (query: Query, cursor?: string | null): Promise<Page<T>> =>
  client.page<T>(route, { ...cleanQuery(query), ...(cursor ? { cursor } : {}) });

export const api = {
  login: (email: string, password: string) =>
    client.call<{ res: 1; name: string; token: string } | { res: -1 }>("managerLogin", { email, password }),
  logout: () => client.call<{ res: 1 }>("logout"),
  me: () => client.call<{ user: string; name: string; rol: Role }>("managerMe"),
  overview: () => client.call<Overview>("getOverview"),

  users: page<UserRow>("getUsers"),
  userDetail: (user: string) => client.call<UserDetail>("getUserDetail", { user }),
  trades: page<Trade>("getTrades"),
  exportTrades: (query: Query) => client.download("exportTrades", cleanQuery(query)),
  operations: page<Record<string, unknown>>("getAllOperations"),
  grantDays: (user: string, days: number) => client.call<{ res: 0 | 1; premiumDays?: number }>("grantPremiumDays", { user, days }),
  block: (user: string, blocked: boolean) => client.call<{ res: 0 | 1; stopping?: boolean }>("blockUser", { user, blocked }),
  forceStop: (user: string) => client.call<Res>("forceStop", { user }),
  sendAlert: (user: string, title: string, description: string) => client.call<Res>("sendAlert", { user, title, description }),
  triggerReset: (user: string) => client.call<Res>("triggerPasswordReset", { user }),

  codes: page<Code>("getCodes"),
  createCodes: (count: number, premiumDays: number) => client.call<{ res: 1; codes: string[] }>("createCodes", { count, premiumDays }),
  revokeCode: (code: string) => client.call<Res>("revokeCode", { code }),

  strategies: () => client.call<Strategy[]>("getStrategies"),
  createStrategy: (s: Omit<Strategy, "createdBy">) => client.call<Res>("createStrategy", s),
  editStrategy: (s: Omit<Strategy, "createdBy">) => client.call<Res>("editStrategy", s),
  retireStrategy: (name: string) => client.call<Res>("retireStrategy", { name }),
  backtest: (s: { sequence: string; operation: string; mirror: boolean; gales: number; days: number }) =>
    client.call<{ total: Record<string, unknown> }>("backtestStrategy", s),

  servers: () => client.call<Overview["servers"]>("getOperatingServers"),
  setPreferential: (name: string, on: boolean) => client.call<Res>("setServerPreferential", { name, on }),
  setDrain: (name: string, on: boolean) => client.call<Res>("setServerDrain", { name, on }),
  releaseUser: (name: string) => client.call<Res>("releaseServerUser", { name }),

  ...managerCopyRoutes(client),
  // The Catalogador: a row is published with createStrategy, which a manager signs "Glimpse".
  ...catalogRoutes(client),

  audit: page<AuditRecord>("getAudit"),
  questions: page<Question>("getQuestions"),
  answer: (id: string, answer: string) => client.call<Res>("answerQuestion", { id, answer }),

  auxiliar: () => client.call<Auxiliar[]>("getAuxiliar"),
  setTerms: (html: string) => client.call<{ res: 1; html: string }>("setTerms", { html }),
  setMaintenance: (on: boolean, message: string) => client.call<Res>("setMaintenance", { on, message }),
  setAppVersion: (version: string) => client.call<Res>("setAppVersion", { version }),

  managers: () => client.call<Manager[]>("getManagers"),
  createManager: (user: string, name: string, password: string, rol: Role) =>
    client.call<Res>("createManager", { user, name, password, rol }),
  setManagerDisabled: (id: string, disabled: boolean) => client.call<Res>("setManagerDisabled", { id, disabled }),
  setManagerRole: (id: string, rol: Role) => client.call<Res>("setManagerRole", { id, rol }),
};
