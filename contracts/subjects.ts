/**
 * Subject and stream naming for both bounded contexts.
 *
 * Grammar: `<context>.<command|event|live|dlq>.<snake_name>.v<n>` and, for per-request results,
 * `.<tenant>.<stream_id>` after it. Every token matches {@link SUBJECT_TOKEN}; anything that comes
 * from a user passes {@link assertSubjectToken} before it touches a subject, so no value can add a
 * token, a wildcard or whitespace and so widen a subscription.
 *
 * An optional namespace prefixes every subject and stream name (tests and staging clusters use it
 * to live side by side with production streams on one JetStream cluster).
 */

import { flatString } from "./flat-string.js";

export const CONTEXTS = ["sea", "vibespro"] as const;
/** A bounded context: the owner of one database and one set of streams. */
export type ContextName = (typeof CONTEXTS)[number];

/** One subject token: letters, digits, `_` and `-`, 1 to 64 characters. */
export const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** Thrown when a value would not be a single safe subject token. */
export class InvalidSubjectTokenError extends Error {
  constructor(
    readonly field: string,
    readonly value: string,
  ) {
    super(`${field} must match ${SUBJECT_TOKEN.source} (letters, digits, "_" or "-", at most 64)`);
    this.name = "InvalidSubjectTokenError";
  }
}

export function isSubjectToken(value: string): boolean {
  return SUBJECT_TOKEN.test(value);
}

/** Returns `value` if it is one safe subject token, else throws {@link InvalidSubjectTokenError}. */
export function assertSubjectToken(field: string, value: string): string {
  if (!isSubjectToken(value)) throw new InvalidSubjectTokenError(field, value);
  return value;
}

/** The command every chat request becomes, per context. */
export const CHAT_COMMAND = { name: "chat_completion", version: 1 } as const;
/** An editor action on a document (explain, refactor, …); its results are a chat result stream. */
export const EDITOR_ACTION_COMMAND = { name: "editor_action", version: 1 } as const;
/** Stops the work of a chat command whose client left. */
export const CHAT_CANCEL_COMMAND = { name: "chat_cancel", version: 1 } as const;
/** The per-request result events (deltas, then one terminal event). */
export const CHAT_RESULT_EVENT = { name: "chat_result", version: 1 } as const;
/** The event recording that a response (its stream) was deleted by its client. */
export const RESPONSE_DELETED_EVENT = { name: "response_deleted", version: 1 } as const;

/** Default dead-letter subject template; `{context}` is replaced by the context name. */
export const DEFAULT_DLQ_SUBJECT = "{context}.dlq.commands";

/** Names of every subject and stream for one namespace. */
export interface SubjectSpace {
  readonly namespace: string;
  commandStream(ctx: ContextName): string;
  eventStream(ctx: ContextName): string;
  dlqStream(ctx: ContextName): string;
  commandFilter(ctx: ContextName): string;
  eventFilter(ctx: ContextName): string;
  command(ctx: ContextName, name: string, version: number): string;
  /**
   * The subject a single request's results are stored on (JetStream). Tenant and stream id are
   * validated.
   */
  result(ctx: ContextName, tenant: string, streamId: string): string;
  /** Where a response's deletion is recorded (an event of its stream, read by no consumer). */
  responseDeleted(ctx: ContextName, tenant: string, streamId: string): string;
  /** The core (unstored) subject a request's results are sent on live, as they are produced. */
  liveResult(ctx: ContextName, tenant: string, streamId: string): string;
  dlq(ctx: ContextName): string;
  /** Core (unstored) broadcast telling every worker of a context to stop one stream. */
  cancelBroadcast(ctx: ContextName, tenant: string, streamId: string): string;
  cancelBroadcastFilter(ctx: ContextName): string;
  /** Core request subject answered by the gateway instances that have a reader on a stream. */
  streamPresence(tenant: string, streamId: string): string;
  /** The durable consumer name shared by a context's competing workers. */
  workerDurable(ctx: ContextName): string;
}

/**
 * Builds the {@link SubjectSpace} for a namespace (empty for none) and a dead-letter template.
 */
export function subjectSpace(namespace = "", dlqTemplate = DEFAULT_DLQ_SUBJECT): SubjectSpace {
  if (namespace !== "") assertSubjectToken("namespace", namespace);
  const p = namespace === "" ? "" : `${namespace}.`;
  const streamPrefix = namespace === "" ? "" : `${namespace.toUpperCase().replace(/-/g, "_")}_`;
  const upper = (ctx: ContextName) => `${streamPrefix}${ctx.toUpperCase()}`;
  const versioned = (name: string, version: number) => {
    assertSubjectToken("name", name);
    if (!Number.isInteger(version) || version < 1) throw new Error("version must be >= 1");
    return `${name}.v${version}`;
  };
  return {
    namespace,
    commandStream: (ctx) => `${upper(ctx)}_COMMANDS`,
    eventStream: (ctx) => `${upper(ctx)}_EVENTS`,
    dlqStream: (ctx) => `${upper(ctx)}_DLQ`,
    commandFilter: (ctx) => `${p}${ctx}.command.>`,
    eventFilter: (ctx) => `${p}${ctx}.event.>`,
    command: (ctx, name, version) => `${p}${ctx}.command.${versioned(name, version)}`,
    result: (ctx, tenant, streamId) =>
      flatString(
        `${p}${ctx}.event.${versioned(CHAT_RESULT_EVENT.name, CHAT_RESULT_EVENT.version)}.` +
          `${assertSubjectToken("tenant", tenant)}.${assertSubjectToken("stream_id", streamId)}`,
      ),
    responseDeleted: (ctx, tenant, streamId) =>
      flatString(
        `${p}${ctx}.event.${versioned(RESPONSE_DELETED_EVENT.name, RESPONSE_DELETED_EVENT.version)}.` +
          `${assertSubjectToken("tenant", tenant)}.${assertSubjectToken("stream_id", streamId)}`,
      ),
    liveResult: (ctx, tenant, streamId) =>
      flatString(
        `${p}${ctx}.live.${versioned(CHAT_RESULT_EVENT.name, CHAT_RESULT_EVENT.version)}.` +
          `${assertSubjectToken("tenant", tenant)}.${assertSubjectToken("stream_id", streamId)}`,
      ),
    dlq: (ctx) => `${p}${dlqTemplate.replace("{context}", ctx)}`,
    cancelBroadcast: (ctx, tenant, streamId) =>
      flatString(
        `${p}${ctx}.control.chat_cancel.v1.${assertSubjectToken("tenant", tenant)}.` +
          assertSubjectToken("stream_id", streamId),
      ),
    cancelBroadcastFilter: (ctx) => `${p}${ctx}.control.chat_cancel.v1.>`,
    streamPresence: (tenant, streamId) =>
      flatString(
        `${p}gateway.control.stream_presence.v1.${assertSubjectToken("tenant", tenant)}.` +
          assertSubjectToken("stream_id", streamId),
      ),
    workerDurable: (ctx) => `${streamPrefix.toLowerCase()}${ctx}_workers`,
  };
}
