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
  seed: z.number().int().nullish(),
  user: z.string().max(256).nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).nullish(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().nullish(),
  prompt_cache_key: z.string().nullish(),
  reasoning_effort: z.string().nullish(),
  /** Answer `202` at once and run without a connected reader; read it later by stream id. */
  background: z.boolean().nullish(),
  /** OpenAI's stored-completions flag: every answer is stored here anyway (accepted, ignored). */
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string().max(512)).nullish(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

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
    logprobs: null;
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
    logprobs: null;
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
