import type { ContextName } from "../../contracts/index.js";

/**
 * Ports for the gauges read from shared state (Postgres, JetStream). Each is one round trip per
 * context per sample: a backlog is counted up to a cap, never scanned whole.
 */

/** A context's database as the sampler sees it. */
export interface DatabaseBacklog {
  /** Unpublished outbox rows and, where this process may read the inbox, unprocessed ones. */
  count(): Promise<{ outbox: number; inbox: number | null }>;
}

/** The workers' consumer of a context's command stream, as JetStream reports it. */
export interface ConsumerState {
  name: string;
  /** Commands not yet delivered. */
  pending: number;
  /** Delivered, not yet acked (running or queued in a worker). */
  ackPending: number;
  /** Pull requests waiting: workers asking for more. */
  waiting: number;
  /** Delivered more than once. */
  redelivered: number;
}

/** A context's streams as the sampler sees them. */
export interface StreamBacklog {
  consumer(): Promise<ConsumerState | null>;
  /** Messages in the dead-letter stream. */
  dlqDepth(): Promise<number>;
}

/** What one process samples for one context. */
export interface ContextSources {
  context: ContextName;
  database?: DatabaseBacklog | undefined;
  streams?: StreamBacklog | undefined;
}
