import type { Point } from "../../lib/operations";

const W = 300;
const H = 120;
const PAD = 8;

/** The period's running result, with the zero line. */
export default function CumulativeChart({ points, label }: { points: Point[]; label: string }) {
  if (points.length === 0) return null;
  const values = [0, ...points.map((p) => p.value)];
  const max = Math.max(...values);
  const min = Math.min(...values);
  const span = max - min || 1;
  const x = (i: number) => PAD + (i / Math.max(1, values.length - 1)) * (W - 2 * PAD);
  const y = (v: number) => PAD + ((max - v) / span) * (H - 2 * PAD);
  const path = values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const last = values[values.length - 1];
  return (
    <svg className="cumulative-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="none">
      <line className="zero" x1={PAD} x2={W - PAD} y1={y(0)} y2={y(0)} />
      <path className={last >= 0 ? "line win" : "line loss"} d={path} />
    </svg>
  );
}
