import type { CandleData } from "../../lib/operations";

const W = 300;
const H = 170;
const PAD = 6;

/** The cycle's candles: bodies from open to close and wicks from low to high. */
export default function CandleChart({ candles, label }: { candles: CandleData[]; label: string }) {
  if (!candles.length) return null;
  const highs = candles.map((c) => Math.max(c.h ?? c.o, c.o, c.c));
  const lows = candles.map((c) => Math.min(c.l ?? c.o, c.o, c.c));
  const top = Math.max(...highs);
  const bottom = Math.min(...lows);
  const span = top - bottom || 1;
  const y = (price: number) => PAD + ((top - price) / span) * (H - 2 * PAD);
  const step = W / candles.length;
  const body = Math.max(2, step * 0.6);
  return (
    <svg className="candle-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="none">
      {candles.map((c, i) => {
        const x = i * step + step / 2;
        const kind = c.c > c.o ? "up" : c.c < c.o ? "down" : "flat";
        const y1 = y(Math.max(c.o, c.c));
        const y2 = y(Math.min(c.o, c.c));
        return (
          <g key={i} className={`candle-svg ${kind}`}>
            <line x1={x} x2={x} y1={y(highs[i])} y2={y(lows[i])} />
            <rect x={x - body / 2} y={y1} width={body} height={Math.max(1, y2 - y1)} />
          </g>
        );
      })}
    </svg>
  );
}
