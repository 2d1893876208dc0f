import { z } from "zod";
import { CatalogSchema } from "./catalog.js";
import {
  ChatCancelPayloadSchema,
  ChatCommandPayloadSchema,
  ChatCompletedPayloadSchema,
  ChatDeltaPayloadSchema,
  ChatDeltasPayloadSchema,
  ChatFailedPayloadSchema,
} from "./chat.js";
import {
  EditorActionInputSchema,
  EditorActionPayloadSchema,
  EditorActionResultSchema,
} from "./editor.js";
import { EnvelopeSchema, ForeignEnvelopeSchema } from "./envelope.js";
import {
  HandlerRequestSchema,
  HandlerResponseSchema,
  HandlerResultEventSchema,
} from "./handler.js";
import { ChatCompletionRequestSchema } from "./openai.js";
import {
  InputItemListSchema,
  ResponseObjectSchema,
  ResponseStreamEventSchema,
} from "./response-object.js";
import { ResponseRecordSchema } from "./response-record.js";
import { ResponsesRequestSchema } from "./responses.js";
import { WsClientMessageSchema } from "./streams.js";

/** Every wire shape other languages validate, by file name under `contracts/schema/`. */
export const EXPORTED_SCHEMAS: Record<string, z.ZodType> = {
  "envelope.json": EnvelopeSchema,
  "foreign-envelope.json": ForeignEnvelopeSchema,
  "chat-command-payload.json": ChatCommandPayloadSchema,
  "chat-cancel-payload.json": ChatCancelPayloadSchema,
  "chat-delta-payload.json": ChatDeltaPayloadSchema,
  "chat-deltas-payload.json": ChatDeltasPayloadSchema,
  "chat-completed-payload.json": ChatCompletedPayloadSchema,
  "chat-failed-payload.json": ChatFailedPayloadSchema,
  "editor-action-payload.json": EditorActionPayloadSchema,
  "editor-action-input.json": EditorActionInputSchema,
  "editor-action-result.json": EditorActionResultSchema,
  "handler-request.json": HandlerRequestSchema,
  "handler-response.json": HandlerResponseSchema,
  "handler-result-event.json": HandlerResultEventSchema,
  "capability-catalog.json": CatalogSchema,
  "chat-completion-request.json": ChatCompletionRequestSchema,
  "ws-client-message.json": WsClientMessageSchema,
  "responses-request.json": ResponsesRequestSchema,
  "response-object.json": ResponseObjectSchema,
  "response-stream-event.json": ResponseStreamEventSchema,
  "response-input-item-list.json": InputItemListSchema,
  "response-record.json": ResponseRecordSchema,
};

/** The JSON Schema text of one exported schema (stable, for committing and diffing). */
export function jsonSchemaText(schema: z.ZodType): string {
  return JSON.stringify(z.toJSONSchema(schema, { unrepresentable: "any" }), null, 2) + "\n";
}
