import type {
  ChatFeature,
  ChatCommandPayload,
  ChatCompletedPayload,
  ChatDeltaPayload,
  ChatFailedPayload,
  EditorActionPayload,
} from "../../contracts/index.js";
import type { Log } from "../log.js";

/** The delivered message a handler is working on (for handler contracts that echo it). */
export interface HandlerMessage {
  id: string;
  subject: string;
  eventType: string;
  eventVersion: number;
  occurredAt: string;
  causationId: string | null;
}

/** What a handler gets besides the command. */
export interface HandlerContext {
  message: HandlerMessage;
  /** Delivery attempt, 1 on first delivery. */
  attempt: number;
  tenant: string;
  correlationId: string;
  /** W3C trace context to send on the calls the handler makes (a `traceparent` header). */
  traceparent?: string | undefined;
  /** Aborted when the worker stops or the work is cancelled: stop upstream calls. */
  signal: AbortSignal;
  log: Log;
  /**
   * Streams one delta to the client (published straight to JetStream): text, and for editor
   * actions edits and diagnostics. Returns a promise only when the handler should wait before
   * the next delta (storage is behind); `await`ing the result is always right.
   */
  emit(delta: ChatDeltaPayload): void | Promise<void>;
}

/**
 * A capability handler: built-in, an OpenAI-compatible upstream, or an HTTP handler service.
 * Return the whole answer on success. Throw {@link PoisonMessageError} for input that can never
 * succeed, {@link AlreadyProcessedError} for a duplicate; anything else is transient (retried).
 */
export interface ChatHandler {
  readonly name: string;
  /**
   * `none`: running it twice changes nothing outside the reply (built-in and model handlers), so
   * the worker may start it before its inbox claim returns. `external` (the default): it writes
   * somewhere, so it runs only once the claim is held.
   */
  readonly sideEffects?: "none" | "external";
  /**
   * Which request fields that shape the answer (`CHAT_FEATURES`) it can honour (absent: none). A
   * catalog saying a model honours more than its handler can is refused at boot.
   */
  readonly honours?: readonly ChatFeature[];
  handle(command: ChatCommandPayload, ctx: HandlerContext): Promise<ChatCompletedPayload>;
  /**
   * Runs an editor action (absent: this handler runs no actions, and a catalog giving it one is
   * refused at boot). Edits and diagnostics go out in deltas; the completed payload may list
   * them all, else the worker completes it with those emitted.
   */
  handleAction?(command: EditorActionPayload, ctx: HandlerContext): Promise<ChatCompletedPayload>;
}

/** The command can never be processed (HTTP 422, schema mismatch): dead-letter it. */
export class PoisonMessageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PoisonMessageError";
  }
}

/**
 * The capability failed for good (an upstream model answered 429, 5xx, or rejected the
 * request): the client gets this error with its status; nothing is retried or dead-lettered.
 */
export class CapabilityError extends Error {
  constructor(readonly failure: ChatFailedPayload["error"]) {
    super(failure.message);
    this.name = "CapabilityError";
  }
}

/** The handler has already processed this message (HTTP 409): acknowledge it. */
export class AlreadyProcessedError extends Error {
  constructor(message = "already processed") {
    super(message);
    this.name = "AlreadyProcessedError";
  }
}

/** Handlers by name; one map, every kind behind the same interface. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, ChatHandler>();

  register(handler: ChatHandler): this {
    if (this.handlers.has(handler.name))
      throw new Error(`handler ${handler.name} registered twice`);
    this.handlers.set(handler.name, handler);
    return this;
  }

  get(name: string): ChatHandler | undefined {
    return this.handlers.get(name);
  }

  names(): string[] {
    return [...this.handlers.keys()];
  }
}
