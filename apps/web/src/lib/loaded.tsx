// A page's data from one read route: loaded on demand (on open, on a timer, on a pull), with the
// error in the reader's language, and the pull-to-refresh that reloads it.

import { useCallback, useRef, useState } from "react";
import { IonRefresher, IonRefresherContent } from "../components/ionic/later";
import { useI18n } from "../i18n/I18nProvider";
import { describeError } from "../session/errors";

/**
 * `data` (null until the first answer), the last `error` ("" once a read succeeds) and `load`,
 * which reads again. `load` keeps its identity across renders, so effects can depend on it.
 */
export function useLoaded<T>(read: () => Promise<T>): { data: T | null; error: string; load: () => Promise<void> } {
  const { t } = useI18n();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState("");
  const latest = useRef(read);
  latest.current = read;
  const load = useCallback(async () => {
    try {
      setData(await latest.current());
      setError("");
    } catch (e) {
      setError(describeError(e, t));
    }
  }, [t]);
  return { data, error, load };
}

/** Pull to refresh, for a PageFrame's `fixed` slot: the spinner stays until `onRefresh` settles. */
export function PullToRefresh({ onRefresh }: { onRefresh: () => Promise<unknown> }) {
  return (
    <IonRefresher slot="fixed" onIonRefresh={(e) => void onRefresh().finally(() => e.detail.complete())}>
      <IonRefresherContent />
    </IonRefresher>
  );
}
