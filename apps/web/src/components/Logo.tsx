export default function Logo({ size = 72 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true">
      <circle cx="32" cy="32" r="30" fill="#1b1f3a" />
      <ellipse cx="32" cy="32" rx="22" ry="13" fill="none" stroke="#5ad1a4" strokeWidth="5" />
      <circle cx="32" cy="32" r="7" fill="#5ad1a4" />
    </svg>
  );
}
