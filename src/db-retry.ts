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

/** A Postgres SQLSTATE: two characters of class, three of condition (numeric or F0, HV, P0, XX). */
const SQLSTATE = /^(?:[0-9][0-9A-Z]|F0|HV|P0|XX)[0-9A-Z]{3}$/;

/**
 * SQLSTATEs of a database that is unreachable, restarting or briefly busy: connection exceptions
 * (08), insufficient resources (53), operator intervention such as a shutdown (57P), system
 * errors (58), and a transaction that lost a race (40001, 40P01, 55P03) — worth waiting for.
 */
const OUTAGE_STATES = /^(?:08|53|57P|58|40001|40P01|55P03)/;

/**
 * True if `err` says the database could not do the work now, rather than that the work is
 * wrong. Judged by its SQLSTATE class; an error without one (a refused or reset connection, a
 * pool timeout) means the database was not reached. A data error (22: a lone surrogate in
 * jsonb, a NUL in text), a constraint (23), a privilege or syntax error (42) is never an outage:
 * retrying it cannot help, and calling it one would answer a client's mistake with a 503.
 */
export function isDatabaseOutage(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !SQLSTATE.test(code)) return true;
  return OUTAGE_STATES.test(code);
}

/** True if `err` is a data exception (SQLSTATE class 22): a value the database cannot hold. */
export function isDataException(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && SQLSTATE.test(code) && code.startsWith("22");
}

/**
 * Runs database work, retrying with backoff while the database is unreachable (a restart, a
 * failover), so a short outage delays a command instead of failing it or burning one of its
 * deliveries. Logs what failed, as a database failure. Throws at once an error that is not an
 * outage ({@link isDatabaseOutage}); throws the last error when it gives up.
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
      if (!isDatabaseOutage(err) || Date.now() >= giveUpAt || policy.signal?.aborted) throw err;
      const delay = backoffMs(attempt, 100, policy.capMs ?? 2_000);
      log.warn(
        { err, attempt, retry_in_ms: delay },
        `database unavailable while ${what}; retrying`,
      );
      await sleep(delay, policy.signal);
    }
  }
}
