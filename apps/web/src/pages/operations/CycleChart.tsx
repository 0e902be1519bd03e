import { useEffect, useMemo, useState } from "react";
import { api } from "../../api";
import PriceChart from "../../components/chart/PriceChart";
import { chartText } from "../../components/chart/chartText";
import { useI18n } from "../../i18n/I18nProvider";
import { cycleRange, entryMarks, toChartCandles, tradesOfCycle, type ApiCandle } from "../../lib/chart";
import type { Cycle } from "../../lib/operations";
import type { TradeRow } from "../../lib/trades";
import { useAccount } from "../../session/AccountProvider";

/**
 * One cycle on a candlestick chart: candles from before its entry through the candle that
 * settled its last order, each order marked. The orders come from the ledger (their quotes
 * and expiries); the candles from getCandles for that range, with those the bot logged.
 */
export default function CycleChart({ cycle }: { cycle: Cycle }) {
  const { language } = useI18n();
  const { marketTz } = useAccount();
  const [trades, setTrades] = useState<TradeRow[]>([]);
  const [fetched, setFetched] = useState<ApiCandle[]>([]);
  const levels = cycle.orders.length;
  // A cycle still running logs its next order or its result: then the chart asks again.
  const progress = cycle.orders.map((o) => String(o.p)).join("|");

  useEffect(() => {
    let live = true;
    const span = (Math.max(1, levels) + 1) * Math.max(1, cycle.expiration) * 60 + 120;
    const who = { cycleId: cycle.cycleId, ativo: cycle.ativo, horario: cycle.horario, expiration: cycle.expiration, levels };
    void (async () => {
      let mine: TradeRow[] = [];
      try {
        const page = await api.getUserTrades({ ativo: cycle.ativo, since: cycle.horario - 1, until: cycle.horario + span }, 50);
        mine = tradesOfCycle(page.items, who);
        if (live) setTrades(mine);
      } catch {
        // the chart still shows the logged candles
      }
      const range = cycleRange(cycle.horario, entryMarks(mine), cycle.expiration, levels);
      try {
        const answer = await api.getCandles(cycle.ativo, range.from, range.to);
        if (live) setFetched(answer.candles);
      } catch {
        // idem
      }
    })();
    return () => {
      live = false;
    };
  }, [cycle.cycleId, cycle.ativo, cycle.horario, cycle.expiration, levels, progress]);

  const candles = useMemo(() => toChartCandles(cycle.candles, fetched), [cycle.candles, fetched]);
  const marks = useMemo(() => entryMarks(trades), [trades]);
  return (
    <PriceChart
      candles={candles}
      marks={marks}
      timeZone={marketTz}
      fit
      testId="cycle-chart"
      label={chartText(language, "cycle", { pair: cycle.ativo, tz: marketTz })}
    />
  );
}
