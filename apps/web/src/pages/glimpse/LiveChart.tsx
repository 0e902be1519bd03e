import { useEffect, useMemo, useRef, useState } from "react";
import { api } from "../../api";
import PriceChart from "../../components/chart/PriceChart";
import { chartText } from "../../components/chart/chartText";
import { useI18n } from "../../i18n/I18nProvider";
import { CANDLE_SECONDS, entryMarks, toChartCandles, type ApiCandle } from "../../lib/chart";
import type { Try } from "../../lib/operating";
import type { TradeRow } from "../../lib/trades";
import { useAccount } from "../../session/AccountProvider";

const WINDOW_CANDLES = 40;
const POLL_MS = 2000;

/**
 * The operated pair's live candles on the dashboard, with the bot's orders marked. The first
 * request fetches the window; later ones only the forming candle and any new one (a few
 * hundred bytes), so the chart stays cheap on a phone's connection.
 */
export default function LiveChart({ pair, tries }: { pair: string; tries: Try[] }) {
  const { language } = useI18n();
  const { marketTz, serverTime } = useAccount();
  const [candles, setCandles] = useState<ApiCandle[]>([]);
  const [trades, setTrades] = useState<TradeRow[]>([]);
  const clock = useRef(serverTime);
  clock.current = serverTime;

  useEffect(() => {
    let live = true;
    let held = new Map<number, ApiCandle>();
    let newest = 0; // the newest candle held: the next request starts there (it may still be forming)
    setCandles([]);
    const poll = async () => {
      const now = clock.current || Date.now() / 1000;
      // Nothing held yet, or held too long ago (a hidden tab): the whole window again.
      if (newest && now - newest > WINDOW_CANDLES * CANDLE_SECONDS) newest = 0;
      const from = newest || now - WINDOW_CANDLES * CANDLE_SECONDS;
      try {
        // The API stops at its own now, so a range a window long from `from` is never short.
        const answer = await api.getCandles(pair, from, from + (WINDOW_CANDLES + 2) * CANDLE_SECONDS);
        if (!live) return;
        held = new Map(held);
        for (const c of answer.candles) held.set(c.from, c);
        const keep = [...held.keys()].sort((a, b) => a - b).slice(-WINDOW_CANDLES);
        held = new Map(keep.map((k) => [k, held.get(k)!]));
        newest = keep.length ? keep[keep.length - 1] : 0;
        setCandles([...held.values()]);
      } catch {
        // the next poll tries again
      }
    };
    void poll();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void poll();
    }, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [pair]);

  // The orders: read again when the bot places one or one settles (the status poll's tries change).
  const progress = tries.map((t) => `${t.start}:${t.result ?? ""}`).join("|");
  useEffect(() => {
    let live = true;
    const since = (clock.current || Date.now() / 1000) - WINDOW_CANDLES * CANDLE_SECONDS;
    api
      .getUserTrades({ ativo: pair, since }, 30)
      .then((page) => {
        if (live) setTrades(page.items);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [pair, progress]);

  const chartCandles = useMemo(() => toChartCandles(candles), [candles]);
  const marks = useMemo(() => entryMarks(trades), [trades]);
  return (
    <PriceChart
      candles={chartCandles}
      marks={marks}
      timeZone={marketTz}
      testId="live-chart"
      label={chartText(language, "live", { pair, tz: marketTz })}
    />
  );
}

