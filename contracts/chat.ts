import { z } from "zod";
import {
  ChatMessageSchema,
  ChoiceLogprobsSchema,
  LogitBiasSchema,
  PredictionSchema,
  ResponseFormatSchema,
} from "./openai.js";
import { ResponseRecordSchema } from "./response-record.js";
import { DiagnosticSchema, TextEditSchema } from "./text-edits.js";

/**
 * The chat capability's command and result payloads, shared by the gateway, the workers and
 * handlers in any language (exported as JSON Schema).
 */

/**
 * The request's parameters, passed on to the capability as the client sent them (an
 * OpenAI-compatible upstream receives each under its own name). Those that shape the answer
 * (`response_format`, `logprobs`…) reach only handlers that honour them: see `CHAT_FEATURES`.
 */
export const ChatParamsSchema = z.object({
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  /** Older models' limit; kept apart from `max_completion_tokens` (reasoning models refuse it). */
  max_tokens: z.number().int().positive().optional(),
  max_completion_tokens: z.number().int().positive().optional(),
  stop: z.array(z.string()).optional(),
  presence_penalty: z.number().optional(),
  frequency_penalty: z.number().optional(),
  logit_bias: LogitBiasSchema.optional(),
  seed: z.number().int().optional(),
  tools: z.array(z.looseObject({ type: z.string() })).optional(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: ResponseFormatSchema.optional(),
  logprobs: z.boolean().optional(),
  top_logprobs: z.number().int().min(0).max(20).optional(),
  modalities: z.array(z.enum(["text", "audio"])).optional(),
  prediction: PredictionSchema.optional(),
  web_search_options: z.looseObject({}).optional(),
  prompt_cache_key: z.string().optional(),
  prompt_cache_retention: z.string().optional(),
  reasoning_effort: z.string().optional(),
  verbosity: z.string().optional(),
  service_tier: z.string().optional(),
  safety_identifier: z.string().optional(),
  store: z.boolean().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type ChatParams = z.infer<typeof ChatParamsSchema>;

/**
 * How the gateway delivers a command's results: not read by handlers, kept with the command so
 * that any gateway instance can serve the stream later (status, resume, retries).
 */
export const ChatDeliverySchema = z.object({
  /** Runs without a connected reader; a disconnect never cancels it. */
  background: z.boolean().optional(),
  /** The client asked for the usage chunk (`stream_options.include_usage`). */
  include_usage: z.boolean().optional(),
  /** SHA-256 of the request, to refuse an idempotency key reused with another body. */
  request_hash: z.string().optional(),
  /** The run is a Responses API response (`/v1/responses`): what it must keep to be served. */
  response: ResponseRecordSchema.optional(),
});
export type ChatDelivery = z.infer<typeof ChatDeliverySchema>;

/** Payload of `<context>.command.chat_completion.v1`. */
export const ChatCommandPayloadSchema = z.object({
  stream_id: z.string().min(1),
  model: z.string().min(1),
  handler: z.string().min(1),
  upstream_model: z.string().min(1).optional(),
  messages: z.array(ChatMessageSchema).min(1),
  params: ChatParamsSchema,
  user: z.string().optional(),
  conversation_id: z.string().optional(),
  delivery: ChatDeliverySchema.optional(),
});
export type ChatCommandPayload = z.infer<typeof ChatCommandPayloadSchema>;

/** Payload of `<context>.command.chat_cancel.v1`: the client of `stream_id` has left. */
export const ChatCancelPayloadSchema = z.object({
  stream_id: z.string().min(1),
  reason: z.string().max(500),
});
export type ChatCancelPayload = z.infer<typeof ChatCancelPayloadSchema>;

export const UsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
});

export const ToolCallDeltaSchema = z.object({
  index: z.number().int().nonnegative(),
  id: z.string().optional(),
  type: z.literal("function").optional(),
  function: z.object({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
});

/**
 * An incremental piece of the answer: ephemeral, published straight to JetStream. Editor actions
 * add `edits` and `diagnostics` (each delta carries new ones; readers that do not know them,
 * such as the OpenAI chunk writer, ignore them).
 */
export const ChatDeltaPayloadSchema = z.object({
  content: z.string().optional(),
  reasoning_content: z.string().optional(),
  tool_calls: z.array(ToolCallDeltaSchema).optional(),
  edits: z.array(TextEditSchema).optional(),
  diagnostics: z.array(DiagnosticSchema).optional(),
  /** The log probabilities of this delta's tokens (asked for with `logprobs: true`). */
  logprobs: ChoiceLogprobsSchema.optional(),
});
export type ChatDeltaPayload = z.infer<typeof ChatDeltaPayloadSchema>;

export const FinishReasonSchema = z.enum(["stop", "length", "tool_calls", "content_filter"]);

/**
 * The whole answer: durable, written through the outbox with the inbox row that produced it. For
 * an editor action, `edits` and `diagnostics` are all of them (the deltas' together).
 */
export const ChatCompletedPayloadSchema = z.object({
  message: z.object({
    role: z.literal("assistant"),
    content: z.string().nullable(),
    reasoning_content: z.string().optional(),
    tool_calls: z
      .array(
        z.object({
          id: z.string(),
          type: z.literal("function"),
          function: z.object({ name: z.string(), arguments: z.string() }),
        }),
      )
      .optional(),
  }),
  finish_reason: FinishReasonSchema,
  usage: UsageSchema,
  /** Every token's log probability, in order (asked for with `logprobs: true`). */
  logprobs: ChoiceLogprobsSchema.optional(),
  edits: z.array(TextEditSchema).optional(),
  diagnostics: z.array(DiagnosticSchema).optional(),
});
export type ChatCompletedPayload = z.infer<typeof ChatCompletedPayloadSchema>;

/** A failure the client must see; `status` is the HTTP status the gateway answers with. */
export const ChatFailedPayloadSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    code: z.string().nullable(),
    status: z.number().int().min(400).max(599),
    /** Seconds the client should wait before retrying (429, 503). */
    retry_after: z.number().int().nonnegative().optional(),
  }),
});
export type ChatFailedPayload = z.infer<typeof ChatFailedPayloadSchema>;

/**
 * Several consecutive deltas in one message: the envelope's `seq` is the first one's, the
 * others follow in order. Workers coalesce deltas that are ready together (a burst from the
 * model, or while the previous message is in flight).
 */
export const ChatDeltasPayloadSchema = z.object({
  deltas: z.array(ChatDeltaPayloadSchema).min(1),
});
export type ChatDeltasPayload = z.infer<typeof ChatDeltasPayloadSchema>;

/**
 * `event_type` values of the result events: stored on `<context>.event.chat_result.v1.<tenant>.
 * <stream>` (deltas in batches, then the terminal event) and sent live on
 * `<context>.live.chat_result.v1.<tenant>.<stream>`.
 */
export const RESULT_EVENT_TYPES = {
  delta: "chat_delta",
  deltas: "chat_deltas",
  completed: "chat_completed",
  failed: "chat_failed",
} as const;

/** A decoded result event, as the gateway consumes it. */
export type ChatResultEvent =
  | { kind: "delta"; seq: number; attempt: number; payload: ChatDeltaPayload }
  /** `at`: when the terminal event was written (unix seconds), where its envelope says. */
  | { kind: "completed"; seq: number; attempt: number; payload: ChatCompletedPayload; at?: number }
  | { kind: "failed"; seq: number; attempt: number; payload: ChatFailedPayload; at?: number };
