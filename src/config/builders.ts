import { z } from "zod";
import { MAX_TIMER_MS } from "../long-timer.js";

/** A whole number of at least `min`, `def` when unset. */
export const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/** A whole number in [min, max]; every failure says the range (the problem names the variable). */
export const intIn = (def: number, min: number, max: number, unit: string) => {
  const error = `must be a whole number of ${unit} from ${min} to ${max}`;
  return z.coerce.number({ error }).int(error).min(min, error).max(max, error).default(def);
};

/** A TCP port. */
export const port = (def: number) => int(def, 1).pipe(z.number().max(65535));

/**
 * A duration that arms a timer: at most Node's timer limit, since a longer one fires after 1 ms
 * (a 504 at once for REQUEST_DEADLINE_MS, a keep-alive loop for SSE_KEEPALIVE_MS…).
 */
export const durationMs = (def: number, min = 0) => intIn(def, min, MAX_TIMER_MS, "milliseconds");

/** A duration in seconds whose milliseconds arm a timer (ACK_WAIT_SECS: the inbox lease). */
export const durationSecs = (def: number, min = 0) =>
  intIn(def, min, Math.floor(MAX_TIMER_MS / 1000), "seconds");

/** An optional URL with one of `protocols`; empty means unset. */
export const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .refine((v) => v === undefined || protocols.some((p) => v.startsWith(p)), {
      message: `must start with ${protocols.join(" or ")}`,
    });

/** An optional non-empty string. */
export const optionalText = () => z.string().min(1).optional();

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const logLevel = () => z.enum(LOG_LEVELS).default("info");
export type LogLevel = (typeof LOG_LEVELS)[number];
