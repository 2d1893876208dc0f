import type { Log } from "./log.js";
import { backoffMs, sleep } from "./sleep.js";

/** How long database work is retried before its caller gives up (a worker: gives the message back). */
export interface DbRetryPolicy {
  /** Give up after this long. */
  forMs: number;
  /** Stop retrying at once (shutdown). */
  signal?: AbortSignal;
  /** The longest pause between attempts (default 2 s). */
  capMs?: number;
}

/**
 * Runs database work, retrying with backoff while the database is unreachable (a restart, a
 * failover), so a short outage delays a command instead of failing it or burning one of its
 * deliveries. Logs what failed, as a database failure. Throws the last error when it gives up.
 */
export async function withDbRetry<T>(
  what: string,
  fn: () => Promise<T>,
  policy: DbRetryPolicy,
  log: Log,
): Promise<T> {
  const giveUpAt = Date.now() + policy.forMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= giveUpAt || policy.signal?.aborted) throw err;
      const delay = backoffMs(attempt, 100, policy.capMs ?? 2_000);
      log.warn(
        { err, attempt, retry_in_ms: delay },
        `database unavailable while ${what}; retrying`,
      );
      await sleep(delay, policy.signal);
    }
  }
}
