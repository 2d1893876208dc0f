import { z } from "zod";

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
