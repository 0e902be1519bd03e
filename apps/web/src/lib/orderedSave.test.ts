import { describe, expect, it } from "vitest";
import { orderedSaver } from "./orderedSave";

/** A server whose answers arrive in whatever order the test releases them; it keeps the last value it received. */
function fakeServer() {
  const received: number[] = [];
  const pending: (() => void)[] = [];
  let stored: number | null = null;
  return {
    received,
    get stored() {
      return stored;
    },
    send(value: number) {
      received.push(value);
      return new Promise<void>((resolve) => {
        pending.push(() => {
          stored = value;
          resolve();
        });
      });
    },
    async releaseAll() {
      while (pending.length) {
        pending.shift()!();
        await Promise.resolve();
        await Promise.resolve();
        await Promise.resolve();
      }
    },
    inFlight: () => pending.length,
  };
}

describe("orderedSaver", () => {
  it("keeps one request in flight and sends only the newest value after it", async () => {
    const server = fakeServer();
    const saver = orderedSaver((v: number) => server.send(v));
    for (let v = 80; v <= 88; v++) void saver.push(v); // a fast sweep: nine steps
    expect(server.inFlight()).toBe(1);
    const done = saver.idle();
    await server.releaseAll();
    await done;
    expect(server.received).toEqual([80, 88]);
    expect(server.stored).toBe(88);
  });

  it("a value pushed while idle leaves at once, and errors do not stop the queue", async () => {
    const sent: number[] = [];
    const errors: number[] = [];
    const saver = orderedSaver(
      async (v: number) => {
        sent.push(v);
        if (v === 1) throw new Error("boom");
      },
      (_e, v) => errors.push(v),
    );
    await saver.push(1);
    await saver.push(2);
    expect(sent).toEqual([1, 2]);
    expect(errors).toEqual([1]);
  });
});
