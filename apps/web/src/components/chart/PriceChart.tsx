import { useEffect, useRef, useState } from "react";
import type { CandlestickData, IChartApi, IPriceLine, ISeriesApi, ISeriesMarkersPluginApi, Time, UTCTimestamp } from "lightweight-charts";
import { useI18n } from "../../i18n/I18nProvider";
import { candleOf, levelTag, settlingCandle, zoneTime, type ChartCandle, type EntryMark } from "../../lib/chart";
import { formatQuote } from "../../lib/trades";
import { chartText } from "./chartText";

// lightweight-charts (TradingView, Apache-2.0) is loaded on first use, in a chunk of its own:
// the first screen never waits for it, and a page without a chart never downloads it.
type Charts = typeof import("lightweight-charts");
let loading: Promise<Charts> | null = null;
function loadCharts(): Promise<Charts> {
  loading ??= import("lightweight-charts").catch((e: unknown) => {
    loading = null; // a failed download is tried again next time
    throw e;
  });
  return loading;
}

interface Drawn {
  chart: IChartApi;
  series: ISeriesApi<"Candlestick">;
  markers: ISeriesMarkersPluginApi<Time>;
  lines: IPriceLine[];
}

function cssColour(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

function resultWord(language: ReturnType<typeof useI18n>["language"], mark: EntryMark): string {
  switch (mark.result) {
    case "win":
    case "loss":
    case "doji":
      return chartText(language, mark.result);
    case null:
      return chartText(language, "running");
    default:
      return chartText(language, "unknown");
  }
}

export interface PriceChartProps {
  candles: ChartCandle[];
  marks: EntryMark[];
  timeZone: string;
  label: string;
  /** Fit every candle in view on each update (a cycle's chart); else keep the trader's scroll (the live chart). */
  fit?: boolean;
  testId?: string;
}

/**
 * A candlestick chart with price and time axes in the market's zone, and the bot's orders
 * marked: an arrow at the entry (up for CALL, down for PUT), a dashed line at the entry
 * quote, and the result on the candle that settled it. The same marks are listed in text.
 */
export default function PriceChart({ candles, marks, timeZone, label, fit = false, testId = "price-chart" }: PriceChartProps) {
  const { language } = useI18n();
  const box = useRef<HTMLDivElement>(null);
  const drawn = useRef<Drawn | null>(null);
  const [state, setState] = useState<"loading" | "ready" | "error">("loading");
  const [drawnMarks, setDrawnMarks] = useState(0);

  // The chart itself: made once the module arrives, removed with the component.
  useEffect(() => {
    let cancelled = false;
    setState("loading");
    loadCharts()
      .then((lib) => {
        if (cancelled || !box.current) return;
        const text = cssColour("--ion-text-color", "#1b1f3a");
        const chart = lib.createChart(box.current, {
          autoSize: true,
          layout: { background: { type: lib.ColorType.Solid, color: "transparent" }, textColor: text, attributionLogo: false },
          grid: { vertLines: { color: "rgba(127,127,127,0.12)" }, horzLines: { color: "rgba(127,127,127,0.12)" } },
          rightPriceScale: { borderVisible: false },
          timeScale: {
            borderVisible: false,
            timeVisible: true,
            secondsVisible: false,
            rightOffset: 4, // room for the newest candle's marks
            // The axis in the market's zone (the signal lists' zone), not the phone's.
            tickMarkFormatter: (time: Time, type: number) =>
              zoneTime(Number(time), timeZone, language, type <= lib.TickMarkType.DayOfMonth),
          },
          localization: { locale: language, timeFormatter: (time: Time) => zoneTime(Number(time), timeZone, language, true) },
          handleScale: { axisPressedMouseMove: false },
        });
        const win = cssColour("--glimpse-win", "#1a7f37");
        const loss = cssColour("--glimpse-loss", "#c62828");
        const series = chart.addSeries(lib.CandlestickSeries, {
          upColor: win,
          downColor: loss,
          wickUpColor: win,
          wickDownColor: loss,
          borderVisible: false,
          priceFormat: { type: "price", precision: 5, minMove: 0.00001 },
        });
        drawn.current = { chart, series, markers: lib.createSeriesMarkers(series, []), lines: [] };
        setState("ready");
      })
      .catch(() => {
        if (!cancelled) setState("error");
      });
    return () => {
      cancelled = true;
      drawn.current?.chart.remove();
      drawn.current = null;
    };
  }, [timeZone, language]);

  // The data and the marks, on every update.
  useEffect(() => {
    const d = drawn.current;
    if (state !== "ready" || !d) return;
    d.series.setData(candles.map((c) => ({ ...c, time: c.time as UTCTimestamp })) as CandlestickData<Time>[]);
    for (const line of d.lines) d.series.removePriceLine(line);
    d.lines = [];
    const first = candles.length ? candles[0].time : Infinity;
    const last = candles.length ? candles[candles.length - 1].time : -Infinity;
    const shown = marks.filter((m) => candleOf(m.openedAt) >= first && candleOf(m.openedAt) <= last);
    const win = cssColour("--glimpse-win", "#1a7f37");
    const loss = cssColour("--glimpse-loss", "#c62828");
    const neutral = cssColour("--ion-color-primary", "#1b1f3a");
    const colourOf = (m: EntryMark) => (m.result === "win" ? win : m.result === "loss" ? loss : neutral);
    const markers = shown.flatMap((m) => {
      const entry = {
        time: candleOf(m.openedAt) as UTCTimestamp,
        position: m.direction === "call" ? ("belowBar" as const) : ("aboveBar" as const),
        shape: m.direction === "call" ? ("arrowUp" as const) : ("arrowDown" as const),
        color: neutral,
        text: `${levelTag(m.level)} ${m.direction.toUpperCase()}`,
        id: `${m.id}-entry`,
      };
      const settled = settlingCandle(m);
      if (m.result === null || settled === null || settled > last) return [entry];
      const result = {
        time: settled as UTCTimestamp,
        position: m.direction === "call" ? ("aboveBar" as const) : ("belowBar" as const),
        shape: "circle" as const,
        color: colourOf(m),
        text: `${levelTag(m.level)} ${resultWord(language, m)}`,
        id: `${m.id}-result`,
      };
      return [entry, result];
    });
    d.markers.setMarkers(markers.sort((a, b) => a.time - b.time));
    for (const m of shown) {
      if (m.price === null) continue;
      d.lines.push(
        d.series.createPriceLine({
          price: m.price,
          color: colourOf(m),
          lineWidth: 1,
          lineStyle: 2, // dashed
          axisLabelVisible: true,
          title: levelTag(m.level),
        }),
      );
    }
    setDrawnMarks(shown.length);
    if (fit) d.chart.timeScale().fitContent();
  }, [state, candles, marks, fit, language]);

  return (
    <figure
      className="price-chart"
      data-testid={testId}
      data-state={state}
      data-candles={candles.length}
      data-first={candles.length ? candles[0].time : undefined}
      data-last={candles.length ? candles[candles.length - 1].time : undefined}
      data-marks={drawnMarks}
    >
      <div ref={box} className="price-chart-canvas" role="img" aria-label={label} />
      {state === "loading" && <p className="price-chart-note">{chartText(language, "loading")}</p>}
      {state === "error" && <p className="price-chart-note" role="alert">{chartText(language, "unavailable")}</p>}
      {state === "ready" && !candles.length && <p className="price-chart-note">{chartText(language, "noCandles")}</p>}
      {marks.length > 0 && (
        <figcaption>
          <span className="sr-only">{chartText(language, "marks")}</span>
          <ol className="chart-marks" data-testid="chart-marks">
            {marks.map((m) => (
              <li key={m.id} data-testid="chart-mark" data-level={m.level} data-result={m.result ?? "open"}>
                <strong>{m.level === 0 ? chartText(language, "entry") : chartText(language, "gale", { n: m.level })}</strong>{" "}
                <span className={`direction ${m.direction}`}>{m.direction.toUpperCase()}</span>{" "}
                <span data-testid="mark-open">{formatQuote(m.price)}</span>
                {m.closePrice !== null && <span data-testid="mark-close"> → {formatQuote(m.closePrice)}</span>} · {zoneTime(m.openedAt, timeZone, language)}
                {m.expiresAt !== null && <> · {chartText(language, "expires", { time: zoneTime(m.expiresAt, timeZone, language) })}</>} ·{" "}
                <span className={m.result === "win" ? "win" : m.result === "loss" ? "loss" : undefined}>{resultWord(language, m)}</span>
              </li>
            ))}
          </ol>
        </figcaption>
      )}
    </figure>
  );
}
