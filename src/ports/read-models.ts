import type {
  ChatDelivery,
  ChatResultEvent,
  ContextName,
  ConversationRunRequest,
} from "../../contracts/index.js";

/**
 * Ports of what the gateway reads about streams and conversations, and of other services'
 * event streams (see the glossary in src/ports.ts, which re-exports these).
 */

/** A chat stream as a lookup finds it: its command, and its outcome once there is one. */
export interface StreamRecord {
  context: ContextName;
  model: string;
  createdAt: Date;
  /** The chat command's id. */
  commandId: string;
  correlationId: string;
  delivery: ChatDelivery;
  /** A cancel command was written for it. */
  cancelRequested: boolean;
  /** The terminal result event, once the command has ended. */
  terminal: Extract<ChatResultEvent, { kind: "completed" | "failed" }> | null;
  /** Its client deleted it (`DELETE /v1/responses/{id}`): it is then found no more. */
  deleted: boolean;
}

/** Finds a tenant's chat streams (never another tenant's). */
export interface StreamDirectory {
  find(tenant: string, streamId: string): Promise<StreamRecord | null>;
}

/**
 * Which gateway instances have a reader on a stream. A stream whose last reader left is
 * cancelled only if no other instance has one (a client may resume on another instance).
 */
export interface StreamPresence {
  /** Declares a reader on the stream here, until the returned function is called. */
  hold(tenant: string, streamId: string): () => void;
  /** True if another instance holds the stream (answers at once when none does). */
  isHeldElsewhere(tenant: string, streamId: string): Promise<boolean>;
}

/** Where a domain-event subscription starts. */
export type EventStart =
  | { deliver: "new" }
  | { deliver: "all" }
  | { deliver: "seq"; seq: number }
  | { deliver: "time"; time: string };

/** One stored event of another service's stream. */
export interface DomainEventMessage {
  /** The stream sequence (the resume cursor). */
  seq: number;
  subject: string;
  /** When the stream stored it (ISO 8601). */
  time: string;
  data: Uint8Array;
}

/** A live subscription to a stream's events. */
export interface DomainEventSubscription {
  /** Stops it and deletes its consumer. */
  close(): Promise<void>;
}

/**
 * Reads other services' event streams on the shared cluster (e.g. `AGGREGATE_EVENTS`), one
 * short-lived consumer per subscription: a unique name, explicit acks, a bounded idle time, and
 * deleted when the subscriber leaves.
 */
export interface DomainEventSource {
  /**
   * Creates the subscription's consumer (rejects if the stream does not exist) and calls
   * `onEvent` for each event in order, the next only once the previous has resolved (so a slow
   * subscriber slows its own consumer, nothing else).
   */
  subscribe(
    opts: { stream: string; filter: string; start: EventStart; name: string },
    onEvent: (event: DomainEventMessage) => Promise<void>,
  ): Promise<DomainEventSubscription>;
}

/** One run of a conversation as its command and outcome rows give it. */
export interface ConversationRunRecord {
  streamId: string;
  model: string;
  createdAt: Date;
  request: ConversationRunRequest;
  cancelRequested: boolean;
  /** The terminal result event, once the run has ended. */
  terminal: Extract<ChatResultEvent, { kind: "completed" | "failed" }> | null;
}

/** One conversation of a tenant: its span, its size, and what names it. */
export interface ConversationRecord {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  runs: number;
  title: string | null;
  instructions: string | null;
}

/**
 * The runs a tenant started under one conversation id (`X-Conversation-Id`), from the commands
 * the outboxes hold: a client that lost its state (a restarted editor agent, another machine)
 * finds a conversation's history again. Never another tenant's.
 */
export interface ConversationDirectory {
  /** The conversation's runs in the order they were started (at most `limit`). */
  runs(tenant: string, conversationId: string, limit: number): Promise<ConversationRunRecord[]>;
  /** The tenant's conversations, latest activity first, updated before `before` if given. */
  list(tenant: string, opts: { limit: number; before?: Date }): Promise<ConversationRecord[]>;
}
