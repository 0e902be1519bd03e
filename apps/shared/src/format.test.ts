import { describe, expect, it } from "vitest";
import { formatAge, formatDateTime, formatSignedMoney, resultClass } from "./format";

describe("shared formatting", () => {
  it("signs money results to the cent", () => {
    expect(formatSignedMoney(-1.5, "en")).toBe("− R$1.50");
    expect(formatSignedMoney(0.004, "en")).toBe("R$0.00");
    expect(resultClass(-0.004)).toBe("even");
  });

  it("shows dates in the given zone", () => {
    expect(formatDateTime(1_717_419_600, "pt-BR", "America/Sao_Paulo")).toBe("03/06/2024 10:00:00");
    expect(formatDateTime(1_717_419_600, "en", "UTC")).toBe("2024-06-03 13:00:00");
  });

  it("shows heartbeat ages", () => {
    expect(formatAge(0.84)).toBe("0.8 s");
    expect(formatAge(42.4)).toBe("42 s");
    expect(formatAge(600)).toBe("10 min");
    expect(formatAge(7200)).toBe("2 h");
    expect(formatAge(-1)).toBe("—");
    expect(formatAge(undefined)).toBe("—");
  });
});
