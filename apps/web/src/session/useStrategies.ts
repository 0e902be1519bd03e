// The strategies list, read once per page that needs it, and whether the
// account's chosen strategy trades with Glimpse's own money management.

import { useEffect, useState } from "react";
import { api, type Account, type Strategy } from "../api";
import { GLIMPSE_AUTHOR } from "../lib/gale";

export function useStrategies(): Strategy[] | null {
  const [strategies, setStrategies] = useState<Strategy[] | null>(null);
  useEffect(() => {
    let live = true;
    api
      .getStrategies()
      .then((list) => live && setStrategies(list))
      .catch(() => live && setStrategies([]));
    return () => {
      live = false;
    };
  }, []);
  return strategies;
}

/** The chosen strategy when the account trades it and Glimpse wrote it (its money management replaces the trader's). */
export function glimpseStrategy(account: Account | null, strategies: Strategy[] | null): Strategy | null {
  if (!account || account.mode !== "strategy" || !strategies) return null;
  const chosen = strategies.find((s) => s.name === account.strategy);
  return chosen && chosen.createdBy === GLIMPSE_AUTHOR ? chosen : null;
}
