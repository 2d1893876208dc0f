import { z } from "zod";
import {
  ChatCompletedPayloadSchema,
  ChatDeltaPayloadSchema,
  ChatFailedPayloadSchema,
} from "./chat.js";

/**
 * The HTTP handler contract (ARCHITECTURE.md): what a worker POSTs to a handler service such as
 * a Python FastAPI app. 200 → processed; 409 → already processed; 422 → poison; 5xx or a
 * timeout → transient (retried).
 */
export const HandlerRequestSchema = z.object({
  message_id: z.string(),
  subject: z.string(),
  event_type: z.string(),
  event_version: z.number().int(),
  occurred_at: z.string(),
  correlation_id: z.string(),
  causation_id: z.string().nullable(),
  tenant_id: z.string(),
  payload: z.unknown(),
});
export type HandlerRequest = z.infer<typeof HandlerRequestSchema>;

/**
 * One result event a handler returns: in a 200 JSON body (`{"events": [...]}`), or one per
 * line of an NDJSON body, or one per `data:` line of an SSE body. Deltas stream to the client;
 * the last event should be `chat_completed` or `chat_failed` (without one, the gateway completes
 * the answer from the deltas).
 */
export const HandlerResultEventSchema = z.discriminatedUnion("event_type", [
  z.object({ event_type: z.literal("chat_delta"), payload: ChatDeltaPayloadSchema }),
  z.object({ event_type: z.literal("chat_completed"), payload: ChatCompletedPayloadSchema }),
  z.object({ event_type: z.literal("chat_failed"), payload: ChatFailedPayloadSchema }),
]);
export type HandlerResultEvent = z.infer<typeof HandlerResultEventSchema>;

/** A 200 JSON body. */
export const HandlerResponseSchema = z.object({ events: z.array(HandlerResultEventSchema) });
