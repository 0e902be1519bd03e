import { useCallback, useEffect, useRef, useState } from "react";
import type { Page, Query } from "../api";

/** Calls `load` now and every `intervalMs` (never faster than once a second) while mounted. */
export function usePoll<T>(load: () => Promise<T>, intervalMs = 1000): { data: T | null; error: unknown } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      try {
        const value = await latest.current();
        if (alive) {
          setData(value);
          setError(null);
        }
      } catch (e) {
        if (alive) setError(e);
      }
      if (alive) timer = setTimeout(tick, Math.max(1000, intervalMs));
    };
    void tick();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [intervalMs]);
  return { data, error };
}

/** Pages of a list route: the current rows, and next/previous by cursor (the cursors seen are kept for "previous"). */
export function usePaged<T>(fetchPage: (query: Query, cursor?: string | null) => Promise<Page<T>>, query: Query) {
  const [rows, setRows] = useState<T[]>([]);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const key = JSON.stringify(query);

  const load = useCallback(
    async (cursor: string | null) => {
      setLoading(true);
      try {
        const page = await fetchPage(JSON.parse(key) as Query, cursor);
        setRows(page.items);
        setNext(page.next);
        setError(null);
      } catch (e) {
        setError(e);
      } finally {
        setLoading(false);
      }
    },
    [fetchPage, key],
  );

  useEffect(() => {
    setCursors([null]);
    void load(null);
  }, [load]);

  return {
    rows,
    loading,
    error,
    page: cursors.length,
    hasNext: next !== null,
    hasPrevious: cursors.length > 1,
    next: () => {
      if (next === null) return;
      setCursors((c) => [...c, next]);
      void load(next);
    },
    previous: () => {
      if (cursors.length < 2) return;
      const back = cursors.slice(0, -1);
      setCursors(back);
      void load(back[back.length - 1]);
    },
    reload: () => void load(cursors[cursors.length - 1]),
  };
}
