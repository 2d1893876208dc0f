import type { LogFn } from "pino";

/**
 * The logger shape the code depends on: satisfied by a pino logger and by fastify's request
 * logger, so request-scoped children (carrying `correlation_id`) flow into the use cases.
 */
export interface Log {
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
  child(bindings: Record<string, unknown>): Log;
}
