/**
 * The longest delay Node's timers keep (2^31-1 ms, 24.8 days). A longer one fires after 1 ms
 * with a `TimeoutOverflowWarning`, so no delay from outside may reach `setTimeout` unchecked:
 * settings are bounded by it (src/config.ts), and a longer wait goes through
 * {@link setLongTimeout}.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A pending {@link setLongTimeout}. */
export interface LongTimer {
  /** Cancels it (nothing happens if it already fired). */
  clear(): void;
}

/**
 * Calls `fn` once, `delayMs` from now, for any delay: weeks, a year (an API key's expiry). It
 * waits in steps of at most {@link MAX_TIMER_MS}, checking the clock at each step, so it never
 * fires early. Unref'd: it does not keep the process alive. A delay of 0 or less (or NaN) fires
 * on the next turn, as `setTimeout` would; `Infinity` never fires.
 */
export function setLongTimeout(fn: () => void, delayMs: number): LongTimer {
  const dueAt = Date.now() + (Number.isNaN(delayMs) ? 0 : delayMs);
  let timer: NodeJS.Timeout | null = null;
  const wait = (left: number) => {
    if (left === Infinity) return;
    timer = setTimeout(step, Math.min(Math.max(left, 0), MAX_TIMER_MS));
    timer.unref();
  };
  const step = () => {
    const left = dueAt - Date.now();
    if (left > 0) return wait(left);
    timer = null;
    fn();
  };
  wait(dueAt - Date.now());
  return {
    clear() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
