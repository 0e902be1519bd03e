import { useEffect } from "react";
import type { Alert } from "../../api";

const BANNER_MS = 3000;

/** New alerts as banners at the top, coloured by type; each goes after 3 s or on tap. */
export default function AlertBanners({ alerts, onDone }: { alerts: Alert[]; onDone: (time: string) => void }) {
  useEffect(() => {
    const timers = alerts.map((a) => window.setTimeout(() => onDone(a.time), BANNER_MS));
    return () => timers.forEach((timer) => window.clearTimeout(timer));
  }, [alerts, onDone]);

  if (!alerts.length) return null;
  return (
    <div className="banners" role="status">
      {alerts.map((a) => (
        <button type="button" key={a.time} className={`banner ${a.type}`} onClick={() => onDone(a.time)}>
          {a.title}
        </button>
      ))}
    </div>
  );
}
