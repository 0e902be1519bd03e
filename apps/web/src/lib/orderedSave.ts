// Controls that save as they move (the payout slider, the pair tiles, the
// settings toggles) send one request per step, and requests sent together can
// arrive out of order: the server would keep a value the screen no longer
// shows. A saver keeps at most one request in flight; values pushed meanwhile
// replace each other, and only the newest is sent when the flight lands. So
// the last value shown is the last value the server receives.

export interface OrderedSaver<T> {
  /** Save `value` after any save in flight; a newer push replaces it if it has not left yet. */
  push(value: T): Promise<void>;
  /** Resolves when nothing is in flight or queued. */
  idle(): Promise<void>;
}

export function orderedSaver<T>(send: (value: T) => Promise<unknown>, onError?: (error: unknown, value: T) => void): OrderedSaver<T> {
  let inFlight: Promise<void> | null = null;
  let queued: { value: T } | null = null;
  let waiters: (() => void)[] = [];

  const settle = () => {
    if (inFlight || queued) return;
    const done = waiters;
    waiters = [];
    done.forEach((w) => w());
  };

  const run = (value: T): Promise<void> => {
    inFlight = (async () => {
      try {
        await send(value);
      } catch (error) {
        onError?.(error, value);
      }
    })().then(() => {
      inFlight = null;
      const next = queued;
      queued = null;
      if (next) void run(next.value);
      else settle();
    });
    return inFlight;
  };

  return {
    push(value: T) {
      if (inFlight) {
        queued = { value };
        return new Promise<void>((resolve) => waiters.push(resolve));
      }
      void run(value);
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    idle() {
      if (!inFlight && !queued) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}
