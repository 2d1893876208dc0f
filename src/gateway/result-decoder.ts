import {
  ChatCompletedPayloadSchema,
  ChatDeltaPayloadSchema,
  ChatFailedPayloadSchema,
  RESULT_EVENT_TYPES,
  decodeEnvelope,
  type ChatResultEvent,
} from "../../contracts/index.js";

/** Decodes one result message; `null` for anything that is not a well-formed result event. */
export function decodeResultEvent(data: Uint8Array): ChatResultEvent | null {
  const env = decodeEnvelope(data);
  if (!env.ok || env.value.seq === undefined) return null;
  const { seq, attempt = 1, payload, event_type } = env.value;
  switch (event_type) {
    case RESULT_EVENT_TYPES.delta: {
      const p = ChatDeltaPayloadSchema.safeParse(payload);
      return p.success ? { kind: "delta", seq, attempt, payload: p.data } : null;
    }
    case RESULT_EVENT_TYPES.completed: {
      const p = ChatCompletedPayloadSchema.safeParse(payload);
      return p.success ? { kind: "completed", seq, attempt, payload: p.data } : null;
    }
    case RESULT_EVENT_TYPES.failed: {
      const p = ChatFailedPayloadSchema.safeParse(payload);
      return p.success ? { kind: "failed", seq, attempt, payload: p.data } : null;
    }
    default:
      return null;
  }
}
