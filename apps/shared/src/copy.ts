// Copy trading as both apps see it (api/routes/copy.py and the manager's approval routes):
// the documents, the follower's stake rules, and the routes over either app's client, so
// each app keeps its own token while the shapes are written once. Amounts of the follower's
// dashboard (getCopying) are integer cents; a follow's fixed stake is reais.

import { parseMoneyInput } from "./format";
import type { Client } from "./http";

export interface Followable {
  user: string;
  name: string;
  optedIn: boolean;
  approved: boolean;
  followable: boolean;
  since: number;
  followers?: number;
}

export interface FollowChoice {
  leader: string;
  leaderName: string;
  stakeType: "multiplier" | "fixed";
  multiplier: number | null;
  fixedStake: number | null; // reais
  since: number;
}

export interface CopiedTrade {
  id: { $oid: string };
  copies: string; // the leader's trade this one copies
  ativo: string;
  operacao: "call" | "put";
  amount: number; // cents
  galeLevel: number;
  status: string;
  result: string | null;
  profit: number | null; // cents
  decidedAt: number;
  placedAt: number | null;
}

export interface CopySummary {
  trades: number;
  cycles: number;
  wins: number;
  losses: number;
  dojis: number;
  open: number;
  net: number; // cents
}

export interface Copying {
  following: FollowChoice | null;
  summary: CopySummary;
  trades: CopiedTrade[];
  me: { optedIn: boolean; approved: boolean }; // the caller's own opt-in to be copied
}

export type StakeChoice = { multiplier: number } | { fixedStake: number };

// As glimpse/store/copying.py bounds them.
export const MULTIPLIER_RANGE = { min: 0.01, max: 100 };
export const FIXED_RANGE = { min: 1, max: 1_000_000 };

type Caller = Pick<Client, "call">;

/** The trader's copy routes (their own follow and opt-in). */
export const traderCopyRoutes = ({ call }: Caller) => ({
  getCopying: () => call<Copying>("getCopying"),
  getFollowable: () => call<Followable[]>("getFollowable"),
  follow: (leader: string, stake: StakeChoice) =>
    call<({ res: 1 } & FollowChoice) | { res: 0; error: string; field: string }>("follow", { leader, ...stake }),
  unfollow: () => call<{ res: 0 | 1 }>("unfollow"),
  setFollowable: (followable: boolean) => call<Followable>("setFollowable", { followable }),
});

/** The manager's copy routes: the traders who opted in to be copied, and the admin's approval switch. */
export const managerCopyRoutes = ({ call }: Caller) => ({
  followableRequests: () => call<Followable[]>("getFollowableRequests"),
  approveFollowable: (user: string, approved: boolean) =>
    call<{ res: 0 | 1 } & Partial<Followable>>("approveFollowable", { user, approved }),
});

/** A multiplier typed the Brazilian way or the English way ("0,5", "1.5"); null when it is not one. */
export function parseMultiplier(text: string): number | null {
  const cleaned = text.trim().replace(/\s/g, "");
  if (!/^\d+([.,]\d+)?$/.test(cleaned)) return null;
  return Number(cleaned.replace(",", "."));
}

/** The stake a follower chose, checked against the server's bounds; a message key when it is out of them. */
export function stakeChoice(
  type: "multiplier" | "fixed",
  text: string,
): { ok: true; stake: StakeChoice } | { ok: false; error: "copy.badMultiplier" | "copy.badFixed" } {
  if (type === "multiplier") {
    const value = parseMultiplier(text);
    if (value === null || value < MULTIPLIER_RANGE.min || value > MULTIPLIER_RANGE.max)
      return { ok: false, error: "copy.badMultiplier" };
    return { ok: true, stake: { multiplier: value } };
  }
  // Money as the rest of the app reads it: at most two decimals, so the server stores the cents typed.
  const value = parseMoneyInput(text, FIXED_RANGE.min);
  if (value === null || value > FIXED_RANGE.max) return { ok: false, error: "copy.badFixed" };
  return { ok: true, stake: { fixedStake: value } };
}
