const R = 26;
const CIRCUMFERENCE = 2 * Math.PI * R;

/** One 1-minute order: a neutral ring that fills as the minute runs (time, not a result), with a
 * short text inside: the countdown, or the result once it settled (coloured by the box around it). */
export default function ProgressRing({ value, label, text }: { value: number; label: string; text?: string }) {
  const done = Math.min(1, Math.max(0, value));
  return (
    <svg className="ring" width="64" height="64" viewBox="0 0 64 64" role="img" aria-label={label}>
      <circle cx="32" cy="32" r={R} className="ring-track" />
      <circle
        cx="32"
        cy="32"
        r={R}
        className="ring-fill"
        strokeDasharray={CIRCUMFERENCE}
        strokeDashoffset={CIRCUMFERENCE * (1 - done)}
        transform="rotate(-90 32 32)"
      />
      <text x="32" y="37" textAnchor="middle">
        {text ?? `${Math.round(done * 100)}%`}
      </text>
    </svg>
  );
}
