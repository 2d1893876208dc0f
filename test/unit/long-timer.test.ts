import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_TIMER_MS, setLongTimeout } from "../../src/long-timer.js";

const DAY_MS = 86_400_000;

// Vitest's fake timers behave as Node's do: a delay above 2^31-1 ms fires after 1 ms.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("setLongTimeout", () => {
  it("is needed: a plain setTimeout of 30 days fires at once", () => {
    const fn = vi.fn();
    setTimeout(fn, 30 * DAY_MS);
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it.each([
    ["30 days (the default key)", 30 * DAY_MS],
    ["365 days (a LibreChat key)", 365 * DAY_MS],
    ["one step past the limit", MAX_TIMER_MS + 1],
  ])("waits %s, firing once, then", (_, delay) => {
    const fn = vi.fn();
    setLongTimeout(fn, delay);
    vi.advanceTimersByTime(1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(delay - 2);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(400 * DAY_MS);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("fires a delay of 0 or less on the next turn", () => {
    const fn = vi.fn();
    setLongTimeout(fn, -5_000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("never fires once cleared, whichever step it is in", () => {
    const fn = vi.fn();
    const t = setLongTimeout(fn, 60 * DAY_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 10);
    t.clear();
    vi.advanceTimersByTime(120 * DAY_MS);
    expect(fn).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("never fires for Infinity", () => {
    const fn = vi.fn();
    setLongTimeout(fn, Infinity);
    expect(vi.getTimerCount()).toBe(0);
    expect(fn).not.toHaveBeenCalled();
  });
});
