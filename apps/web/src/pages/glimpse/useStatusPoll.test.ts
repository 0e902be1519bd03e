import { describe, expect, it } from "vitest";
import { IDLE_POLL_GAP_MS, POLL_GAP_MS, pollGap } from "./useStatusPoll";

describe("pollGap", () => {
  it("polls every second from Start until the bot is off again, every 3 s while it is off", () => {
    for (const status of ["waiting", "assigning", "operating", "stopping"]) expect(pollGap(status)).toBe(POLL_GAP_MS);
    expect(pollGap("off")).toBe(IDLE_POLL_GAP_MS);
    expect(pollGap(undefined)).toBe(IDLE_POLL_GAP_MS);
    expect(IDLE_POLL_GAP_MS).toBeGreaterThan(POLL_GAP_MS);
  });
});
