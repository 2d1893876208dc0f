import { ConfigError } from "../src/config.js";
import { StartupError } from "../src/startup-error.js";

/**
 * A URL fit for a message: the password replaced by `***`, and for NATS also a token given as
 * the user part (`nats://token@host`).
 */
export function redactUrl(url: string, opts: { userIsSecret?: boolean } = {}): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactText(url);
  }
  if (u.password) u.password = "***";
  else if (u.username && opts.userIsSecret) u.username = "***";
  return u.toString().replace(/\/$/, "");
}

/** Every `scheme://user:password@` in free text, with the password replaced by `***`. */
export function redactText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, "$1***@");
}

/**
 * The one line the CLI prints for a failed command: the error's own message, redacted, never
 * empty and never a stack (stacks go to debug output, see {@link failureDetail}).
 */
export function failureLine(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; name?: unknown } | null;
  let message = typeof e?.message === "string" ? e.message.trim() : "";
  if (!message && typeof e?.code === "string") message = e.code;
  if (!message && err !== undefined && err !== null && typeof err !== "object")
    message = String(err);
  // A rejection without a reason (a library calling reject()) must not print "undefined".
  if (!message) message = "failed without giving a reason; LOG_LEVEL=debug shows more";
  if (!(err instanceof StartupError || err instanceof ConfigError)) {
    message = message.split("\n")[0]!;
  }
  return redactText(message);
}

/** The stack of an error and of each of its causes, redacted, for LOG_LEVEL=debug. */
export function failureDetail(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    parts.push((e as Error).stack ?? String(e));
    e = (e as { cause?: unknown }).cause;
  }
  return redactText(parts.join("\ncaused by: "));
}
