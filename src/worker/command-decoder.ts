import {
  CHAT_CANCEL_COMMAND,
  ChatCancelPayloadSchema,
  ChatCommandPayloadSchema,
  EDITOR_ACTION_COMMAND,
  EditorActionPayloadSchema,
  decodeEnvelope,
  isSubjectToken,
  type ChatCancelPayload,
  type ChatCommandPayload,
  type EditorActionPayload,
  type ForeignEnvelope,
} from "../../contracts/index.js";
import type { DeliveredCommand } from "../ports.js";
import type { ResultOrigin } from "./result-events.js";

/** Who waits for a command's results: enough to write them (attempt comes from the claim). */
export type ResultBase = Omit<ResultOrigin, "attempt">;

/** A delivered message, decoded as far as it could be. */
export type DecodedCommand =
  | { kind: "chat"; envelope: ForeignEnvelope; origin: ResultBase; payload: ChatCommandPayload }
  | { kind: "cancel"; envelope: ForeignEnvelope; origin: ResultBase; payload: ChatCancelPayload }
  | {
      kind: "action";
      envelope: ForeignEnvelope;
      origin: ResultBase;
      payload: EditorActionPayload;
    }
  /** Poison: `origin` is set when the client waiting for it can still be told. */
  | { kind: "poison"; reason: string; envelope: ForeignEnvelope | null; origin: ResultBase | null };

/** The inbox key of a delivery; one without `Nats-Msg-Id` is keyed by subject and event id. */
export function inboxKey(cmd: DeliveredCommand, envelope: ForeignEnvelope | null): string {
  return cmd.messageId ?? `nomsgid:${cmd.subject}:${envelope?.event_id ?? "?"}`;
}

function originOf(env: ForeignEnvelope): ResultBase | null {
  const streamId = env.stream_id ?? (env.payload as { stream_id?: unknown } | undefined)?.stream_id;
  const tenant = env.tenant_id;
  if (typeof streamId !== "string" || !isSubjectToken(streamId)) return null;
  if (typeof tenant !== "string" || !isSubjectToken(tenant)) return null;
  return {
    tenant,
    streamId,
    correlationId: env.correlation_id ?? env.event_id ?? streamId,
    causationId: env.event_id ?? env.command_id ?? streamId,
  };
}

/**
 * Decodes a delivered command (tolerantly, as any service on the cluster may publish): a chat
 * command, an editor action, a cancel, or poison with the reason. Never throws.
 */
export function decodeCommand(cmd: DeliveredCommand): DecodedCommand {
  const env = decodeEnvelope(cmd.data);
  if (!env.ok) return { kind: "poison", reason: env.error, envelope: null, origin: null };
  const envelope = env.value;
  const origin = originOf(envelope);
  const poison = (reason: string): DecodedCommand => ({ kind: "poison", reason, envelope, origin });
  if (!cmd.messageId) return poison("missing Nats-Msg-Id header");
  if (!origin) return poison("schema mismatch: command lacks a valid tenant or stream id");
  if (envelope.event_type === CHAT_CANCEL_COMMAND.name) {
    const p = ChatCancelPayloadSchema.safeParse(envelope.payload);
    if (!p.success) return poison("schema mismatch: bad chat_cancel");
    return { kind: "cancel", envelope, origin, payload: p.data };
  }
  if (envelope.event_type === EDITOR_ACTION_COMMAND.name) {
    const p = EditorActionPayloadSchema.safeParse(envelope.payload);
    if (!p.success) return poison(`schema mismatch: ${p.error.message}`);
    return { kind: "action", envelope, origin, payload: p.data };
  }
  const p = ChatCommandPayloadSchema.safeParse(envelope.payload);
  if (!p.success) return poison(`schema mismatch: ${p.error.message}`);
  return { kind: "chat", envelope, origin, payload: p.data };
}
