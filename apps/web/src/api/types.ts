// Shapes of the API's answers (Mongo field names as in the original).

import type { GlimpseStatus, Try } from "../lib/operating";

export interface ObjectId {
  $oid: string;
}

export interface MoneySettings {
  money: number;
  gale: boolean;
  galeCount: number;
  galeType: "dobro" | "cobrir" | "sobra";
  sobra: number;
  stopLoss: boolean;
  stopLossValue: number;
  stopWin: boolean;
  stopWinValue: number;
}

export interface AlertSettings {
  useAlerts: boolean;
  glimpseStart: boolean;
  glimpseStop: boolean;
  activeClose: boolean;
  stopLossReached: boolean;
  stopWinReached: boolean;
}

export interface Settings {
  alerts: AlertSettings;
  glimpse: { slides: boolean; operationPriority: "gale" | "stop" };
}

export interface Alert {
  title: string;
  description: string;
  read: boolean;
  shown: boolean;
  time: string; // epoch seconds as a string; also the alert's id
  type: "info" | "danger";
}

export interface Operating {
  operating: boolean;
  active: string;
  money: number | string;
  operacao: string;
  tries: Try[];
}

export interface Account {
  _id: ObjectId;
  name: string;
  email: string;
  readTerms: boolean;
  glimpseStatus: GlimpseStatus;
  operating: Operating;
  iqEmail: string;
  iqConnected: boolean;
  iqAccountType: "treinamento" | "real";
  iqBalancePractice?: number;
  iqBalanceReal?: number;
  iqBalanceAt?: number; // when the bot last read the broker's balance (epoch seconds)
  iqPeriodProfit: number;
  iqPeriodLoss: number;
  iqSessionProfit: number;
  premiumDays?: number;
  preferedPayout: string;
  preferedActives: string;
  mode: "strategy" | "signals" | "copy";
  strategy: string;
  ownedStrategies: string[];
  strategySettings: MoneySettings;
  signalSettings: MoneySettings;
  settings: Settings;
  alerts: Alert[];
}

export interface OpenPair {
  ativo: string;
  payout: string | number;
}

export interface StatusAnswer {
  user: Account;
  ativos: OpenPair[];
  serverTime: number;
  maintenance?: boolean;
  tz?: string;
}

export interface Pair {
  ativo: string;
  open: "True" | "False";
  payout: string | number;
}

export interface Strategy {
  _id?: ObjectId;
  name: string;
  createdBy: string;
  sequence: string;
  operation: "call" | "put";
  mirror: boolean;
}

export interface BacktestStats {
  signals: number;
  win_at: number[];
  loss: number;
  unresolved: number;
  dojis: number;
  win_rate_at: (number | null)[];
  win_rate_cumulative: (number | null)[];
  // With a stake (money figures, reais):
  net_profit?: number;
  max_drawdown?: number;
  longest_losing_streak?: number;
  equity?: number[];
  payout?: number;
  hit_rate?: number | null;
  break_even?: number;
}

export interface BacktestReport {
  total: BacktestStats;
  pairs: Record<string, BacktestStats>;
  money?: { stake: number; galeType: string; sobra: number; gales: number };
  period?: { from: number | null; to: number | null; source: "paper" | "stored" };
}

export interface BacktestQuery {
  sequence: string;
  operation: string;
  mirror: boolean;
  gales: number;
  days?: number;
  hours?: number;
  stake?: number;
  galeType?: "dobro" | "cobrir" | "sobra";
  sobra?: number;
}

export interface Signal {
  id: string;
  ativo: string;
  hora: string;
  operacao: "call" | "put";
  status: "active" | "canceled" | "result";
  resultado: "" | "win" | "loss" | "doji";
}

export interface SignalsDoc {
  _id: ObjectId;
  user: string;
  signals: Signal[];
  type: "user";
}

export interface RankRow {
  name: string;
  profit: number;
  loss: number;
  me: boolean;
}

/** checkIq's answer: the balances, or (as the original answered) `res` holding why the broker refused. */
export type Balances =
  | { res: 1; account: string; treinamento: number; real: number }
  | { res: string; error?: string; field?: string };

/** getCandles: one pair's one-minute candles, oldest first. */
export interface CandlesAnswer {
  pair: string;
  size: number;
  source: "paper" | "stream";
  serverTime: number;
  candles: { from: number; o: number; c: number; h: number; l: number }[];
}
