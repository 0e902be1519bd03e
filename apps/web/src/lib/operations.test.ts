import { describe, expect, it } from "vitest";
import { buttonState, canConfigure, formatCountdown, startProblem, tryProgress, tryState } from "./operating";
import { cumulative, cycleProfit, flattenCycles, readNote, type OperationsDoc } from "./operations";

describe("operation history", () => {
  const docs: OperationsDoc[] = [
    {
      _id: { $oid: "a" },
      operationType: "strategy",
      strategy: "Três",
      accountType: "PRACTICE",
      expiration: 1,
      operations: [
        {
          ativo: "EURUSD",
          horario: 100,
          operacao: "call",
          money: 2,
          candles: [[{ o: 1, c: 2, h: 3, l: 0.5 }]],
          operacoes: [{ a: 1.1, p: -2 }, { a: 1.2, p: 3.6 }],
        },
        { ativo: "GBPUSD", horario: 300, operacao: "put", money: 2, operacoes: [{ p: -2 }, { p: "SLR: 2" }] },
      ],
    },
    { _id: { $oid: "b" }, operationType: "signals", operations: [{ ativo: "USDJPY", horario: 200, operacao: "put", money: 5, operacoes: [{ p: 0.1 }, { p: 0.2 }] }] },
    { _id: { $oid: "empty" } },
  ];

  it("sums numeric results to the cent and skips notes", () => {
    expect(cycleProfit([{ p: 0.1 }, { p: 0.2 }])).toBe(0.3);
    expect(cycleProfit([{ p: "CLO: 2" }, { p: -1.5 }])).toBe(-1.5);
    expect(cycleProfit(undefined)).toBe(0);
  });

  it("lists every cycle newest first, with its mode", () => {
    const cycles = flattenCycles(docs);
    expect(cycles.map((c) => [c.ativo, c.profit, c.strategy])).toEqual([
      ["GBPUSD", -2, "Três"],
      ["USDJPY", 0.3, null],
      ["EURUSD", 1.6, "Três"],
    ]);
    expect(cycles[2].candles).toEqual([{ o: 1, c: 2, h: 3, l: 0.5 }]);
  });

  it("accumulates the period's result oldest first", () => {
    expect(cumulative(flattenCycles(docs)).map((p) => p.value)).toEqual([1.6, 1.9, -0.1]);
    expect(cumulative([])).toEqual([]);
  });
});

describe("order notes", () => {
  it("reads the stop-loss and closed-pair notes", () => {
    expect(readNote("SLR: 6.00")).toEqual({ kind: "stopLoss", amount: 6 });
    expect(readNote("CLO: 2")).toEqual({ kind: "pairClosed", amount: 2 });
    expect(readNote("CLO:")).toEqual({ kind: "pairClosed", amount: null });
    expect(readNote("something")).toEqual({ kind: "other", text: "something" });
  });
});

describe("operating state", () => {
  it("measures each 1-minute order", () => {
    expect(tryProgress({ start: 0 }, 1000)).toBe(0);
    expect(tryProgress({ start: "970.5" }, 1000)).toBeCloseTo(29.5 / 60);
    expect(tryProgress({ start: 900 }, 1000)).toBe(1);
    expect(tryProgress({ start: 1010 }, 1000)).toBe(0);
  });

  it("maps each status to the button", () => {
    expect(buttonState("off")).toBe("start");
    expect(buttonState("operating")).toBe("stop");
    expect(buttonState("waiting")).toBe("busy-stop");
    expect(buttonState("assigning")).toBe("busy-stop");
    expect(buttonState("stopping")).toBe("busy");
    expect(canConfigure("off")).toBe(true);
    expect(canConfigure("stopping")).toBe(false);
  });

  it("refuses Start without a strategy or a broker account", () => {
    expect(startProblem({ mode: "strategy", strategy: "", iqConnected: true })).toBe("noStrategy");
    expect(startProblem({ mode: "strategy", strategy: "X", iqConnected: false })).toBe("noBroker");
    expect(startProblem({ mode: "signals", strategy: "", iqConnected: true })).toBeNull();
  });
});

describe("a try's state on the operating card", () => {
  it("shows the result once settled, whatever the time", () => {
    expect(tryState({ start: "970", result: "loss" }, 975)).toEqual({ kind: "loss" });
    expect(tryState({ start: "970", result: "win" }, 2000)).toEqual({ kind: "win" });
    expect(tryState({ start: "970", result: "doji" }, 980)).toEqual({ kind: "doji" });
  });
  it("counts down to expiry, then waits for the result", () => {
    expect(tryState({ start: 0, result: "" }, 1000)).toEqual({ kind: "pending" });
    expect(tryState({ start: "970.5", result: "" }, 1000)).toEqual({ kind: "running", secondsLeft: 31 });
    expect(tryState({ start: "970.5", result: "" }, 1031)).toEqual({ kind: "settling" });
    expect(formatCountdown(37)).toBe("0:37");
    expect(formatCountdown(60)).toBe("1:00");
    expect(formatCountdown(-3)).toBe("0:00");
  });
});
