import {
  ChatCompletedPayloadSchema,
  ChatDeltaPayloadSchema,
  ChatFailedPayloadSchema,
  RESULT_EVENT_TYPES,
  type ChatDeltaPayload,
  type ChatResultEvent,
} from "../../../contracts/index.js";

const decoder = new TextDecoder();
const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isOptString = (v: unknown) => v === undefined || typeof v === "string";

/**
 * A delta's shape, checked by hand: this runs for every chunk of every stream, where a schema
 * library costs more than everything else the gateway does with the chunk. Anything unusual
 * falls back to the full schema.
 */
function asDelta(p: unknown): ChatDeltaPayload | null {
  if (p === null || typeof p !== "object" || Array.isArray(p)) return null;
  const d = p as Record<string, unknown>;
  if (isOptString(d.content) && isOptString(d.reasoning_content) && d.tool_calls === undefined) {
    return d as ChatDeltaPayload;
  }
  const parsed = ChatDeltaPayloadSchema.safeParse(p);
  return parsed.success ? { ...d, ...parsed.data } : null;
}

/** A terminal event's time, from its envelope's `occurred_at` (unix seconds). */
function atOf(env: Record<string, unknown>): { at?: number } {
  const t = typeof env.occurred_at === "string" ? Date.parse(env.occurred_at) : NaN;
  return Number.isNaN(t) ? {} : { at: Math.floor(t / 1000) };
}

/**
 * Decodes one result message into its events (a `chat_deltas` message holds several, numbered
 * from its `seq`); `null` for anything that is not a well-formed result message.
 */
export function decodeResultEvents(data: Uint8Array): ChatResultEvent[] | null {
  let env: Record<string, unknown>;
  try {
    env = JSON.parse(decoder.decode(data)) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (env === null || typeof env !== "object") return null;
  const { seq, payload, event_type } = env;
  const attempt = env.attempt ?? 1;
  if (!isPositiveInt(seq) || !isPositiveInt(attempt)) return null;
  switch (event_type) {
    case RESULT_EVENT_TYPES.delta: {
      const d = asDelta(payload);
      return d ? [{ kind: "delta", seq, attempt, payload: d }] : null;
    }
    case RESULT_EVENT_TYPES.deltas: {
      const list = (payload as { deltas?: unknown } | null)?.deltas;
      if (!Array.isArray(list) || list.length === 0) return null;
      const out: ChatResultEvent[] = [];
      for (let i = 0; i < list.length; i++) {
        const d = asDelta(list[i]);
        if (!d) return null;
        out.push({ kind: "delta", seq: seq + i, attempt, payload: d });
      }
      return out;
    }
    case RESULT_EVENT_TYPES.completed: {
      const p = ChatCompletedPayloadSchema.safeParse(payload);
      return p.success
        ? [{ kind: "completed", seq, attempt, payload: p.data, ...atOf(env) }]
        : null;
    }
    case RESULT_EVENT_TYPES.failed: {
      const p = ChatFailedPayloadSchema.safeParse(payload);
      return p.success ? [{ kind: "failed", seq, attempt, payload: p.data, ...atOf(env) }] : null;
    }
    default:
      return null;
  }
}
