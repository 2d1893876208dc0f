import { z } from "zod";

/**
 * The OpenAI Chat Completions wire format, as the gateway accepts and emits it.
 * Unknown request fields are tolerated (dropped), as every OpenAI-compatible server does.
 */

const TextPart = z.object({ type: z.literal("text"), text: z.string() });
const ImagePart = z.object({
  type: z.literal("image_url"),
  image_url: z.object({ url: z.string(), detail: z.string().optional() }),
});
/** Content parts we do not interpret are kept so handlers may (e.g. `input_audio`). */
const OtherPart = z.looseObject({ type: z.string() });
export const ContentPartSchema = z.union([TextPart, ImagePart, OtherPart]);
export const MessageContentSchema = z.union([z.string(), z.array(ContentPartSchema)]);

export const ToolCallSchema = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const ChatMessageSchema = z.discriminatedUnion("role", [
  z.object({
    role: z.enum(["system", "developer"]),
    content: MessageContentSchema,
    name: z.string().optional(),
  }),
  z.object({ role: z.literal("user"), content: MessageContentSchema, name: z.string().optional() }),
  z.object({
    role: z.literal("assistant"),
    content: MessageContentSchema.nullish(),
    name: z.string().optional(),
    tool_calls: z.array(ToolCallSchema).optional(),
    reasoning_content: z.string().nullish(),
  }),
  z.object({ role: z.literal("tool"), content: MessageContentSchema, tool_call_id: z.string() }),
]);
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** `response_format`: free text, any JSON object, or JSON matching a schema (structured outputs). */
export const ResponseFormatSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({
      name: z.string().min(1).max(64),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);
export type ResponseFormat = z.infer<typeof ResponseFormatSchema>;

/** `logit_bias`: token id → bias from -100 to 100. */
export const LogitBiasSchema = z.record(z.string().regex(/^\d+$/), z.number().min(-100).max(100));

/** `prediction`: predicted output (a latency hint; the answer does not depend on it). */
export const PredictionSchema = z.looseObject({ type: z.literal("content"), content: z.unknown() });

/**
 * The request. Fields are either refused (400) or passed on to the capability's handler; which
 * handler honours which output-shaping field is data in the catalog (see `CHAT_FEATURES`).
 */
export const ChatCompletionRequestSchema = z.object({
  model: z.string().min(1).max(256),
  messages: z.array(ChatMessageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  n: z.number().int().positive().nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  logit_bias: LogitBiasSchema.nullish(),
  seed: z.number().int().nullish(),
  user: z.string().max(256).nullish(),
  safety_identifier: z.string().max(256).nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).nullish(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().nullish(),
  /** Deprecated function calling (before `tools`): refused, pointing to `tools`. */
  functions: z.array(z.unknown()).nullish(),
  function_call: z.unknown().optional(),
  response_format: ResponseFormatSchema.nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  modalities: z.array(z.enum(["text", "audio"])).nullish(),
  audio: z.looseObject({}).nullish(),
  prediction: PredictionSchema.nullish(),
  web_search_options: z.looseObject({}).nullish(),
  prompt_cache_key: z.string().nullish(),
  prompt_cache_retention: z.string().max(64).nullish(),
  reasoning_effort: z.string().nullish(),
  verbosity: z.string().max(64).nullish(),
  service_tier: z.string().max(64).nullish(),
  /** Answer `202` at once and run without a connected reader; read it later by stream id. */
  background: z.boolean().nullish(),
  /**
   * OpenAI's stored-completions flag, passed on to the upstream as sent (every answer is stored
   * here anyway, see `GET /v1/chat/completions/{id}`).
   */
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string().max(512)).nullish(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

const TopLogprobSchema = z.looseObject({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.number().int()).nullable(),
});

/** One token's log probability, with the most likely alternatives (`top_logprobs`). */
export const TokenLogprobSchema = z.looseObject({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.number().int()).nullable(),
  top_logprobs: z.array(TopLogprobSchema),
});
export type TokenLogprob = z.infer<typeof TokenLogprobSchema>;

/** A choice's `logprobs` (`logprobs: true`): the content's tokens, and a refusal's. */
export const ChoiceLogprobsSchema = z.object({
  content: z.array(TokenLogprobSchema).nullable(),
  refusal: z.array(TokenLogprobSchema).nullable().optional(),
});
export type ChoiceLogprobs = z.infer<typeof ChoiceLogprobsSchema>;

/** Token usage as clients require it: plain integers, never null. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  role?: "assistant";
  content?: string | null;
  reasoning_content?: string;
  tool_calls?: ToolCallDelta[];
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** One `chat.completion.chunk`; `id` and `created` are equal on every chunk of a response. */
export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: {
    index: number;
    delta: ChunkDelta;
    logprobs: ChoiceLogprobs | null;
    finish_reason: FinishReason | null;
  }[];
  usage?: Usage;
}

export interface AssistantMessage {
  role: "assistant";
  content: string | null;
  reasoning_content?: string;
  tool_calls?: z.infer<typeof ToolCallSchema>[];
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: number;
    message: AssistantMessage;
    logprobs: ChoiceLogprobs | null;
    finish_reason: FinishReason;
  }[];
  usage: Usage;
}

export interface ModelList {
  object: "list";
  data: { id: string; object: "model"; created: number; owned_by: string }[];
}

/** The OpenAI error body; the HTTP status travels separately. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
