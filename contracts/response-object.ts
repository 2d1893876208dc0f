import { z } from "zod";

/**
 * What `/v1/responses` answers: the response object, its output items and the streamed events.
 * Shapes follow OpenAI's (the SDK, Codex and LangChain read them) and stay valid under the Open
 * Responses schema, whose response object requires every key below (nulls where unknown).
 */

export const OutputTextContentSchema = z.object({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(z.unknown()),
  logprobs: z.array(z.unknown()).optional(),
});

export const ItemStatusSchema = z.enum(["in_progress", "completed", "incomplete"]);

export const MessageOutputSchema = z.object({
  id: z.string(),
  type: z.literal("message"),
  role: z.literal("assistant"),
  status: ItemStatusSchema,
  content: z.array(OutputTextContentSchema),
});

export const FunctionCallOutputSchema = z.object({
  id: z.string(),
  type: z.literal("function_call"),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  status: ItemStatusSchema,
  /** Set when the function came from a `namespace` tool (Codex dispatches by it). */
  namespace: z.string().optional(),
});

export const SummaryTextSchema = z.object({ type: z.literal("summary_text"), text: z.string() });

export const ReasoningOutputSchema = z.object({
  id: z.string(),
  type: z.literal("reasoning"),
  summary: z.array(SummaryTextSchema),
});

export const CustomToolCallOutputSchema = z.object({
  id: z.string(),
  type: z.literal("custom_tool_call"),
  call_id: z.string(),
  name: z.string(),
  input: z.string(),
});

export const ResponseOutputItemSchema = z.discriminatedUnion("type", [
  MessageOutputSchema,
  FunctionCallOutputSchema,
  ReasoningOutputSchema,
  CustomToolCallOutputSchema,
]);
export type ResponseOutputItem = z.infer<typeof ResponseOutputItemSchema>;
export type MessageOutput = z.infer<typeof MessageOutputSchema>;
export type FunctionCallOutput = z.infer<typeof FunctionCallOutputSchema>;
export type ReasoningOutput = z.infer<typeof ReasoningOutputSchema>;
export type CustomToolCallOutput = z.infer<typeof CustomToolCallOutputSchema>;

export const ResponseUsageSchema = z.object({
  input_tokens: z.number().int().nonnegative(),
  input_tokens_details: z.object({ cached_tokens: z.number().int().nonnegative() }),
  output_tokens: z.number().int().nonnegative(),
  output_tokens_details: z.object({ reasoning_tokens: z.number().int().nonnegative() }),
  total_tokens: z.number().int().nonnegative(),
});
export type ResponseUsage = z.infer<typeof ResponseUsageSchema>;

export const ResponseStatusSchema = z.enum([
  "queued",
  "in_progress",
  "completed",
  "failed",
  "cancelled",
  "incomplete",
]);
export type ResponseStatus = z.infer<typeof ResponseStatusSchema>;

/** A tool as the response echoes it: function tools only, every key present. */
export const EchoedToolSchema = z.object({
  type: z.literal("function"),
  name: z.string(),
  description: z.string().nullable(),
  parameters: z.record(z.string(), z.unknown()).nullable(),
  strict: z.boolean().nullable(),
});
export type EchoedTool = z.infer<typeof EchoedToolSchema>;

export const ResponseObjectSchema = z
  .object({
    id: z.string().startsWith("resp_"),
    object: z.literal("response"),
    created_at: z.number().int(),
    completed_at: z.number().int().nullable(),
    status: ResponseStatusSchema,
    model: z.string(),
    output: z.array(ResponseOutputItemSchema),
    /** `code` is a string whenever there is an error (Open Responses, Codex). */
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    incomplete_details: z
      .object({ reason: z.enum(["max_output_tokens", "content_filter"]) })
      .nullable(),
    instructions: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    previous_response_id: z.string().nullable(),
    background: z.boolean(),
    store: z.boolean(),
    tools: z.array(EchoedToolSchema),
    tool_choice: z.unknown(),
    parallel_tool_calls: z.boolean(),
    temperature: z.number(),
    top_p: z.number(),
    presence_penalty: z.number(),
    frequency_penalty: z.number(),
    top_logprobs: z.number().int(),
    max_output_tokens: z.number().int().nullable(),
    max_tool_calls: z.number().int().nullable(),
    reasoning: z
      .object({ effort: z.string().nullable(), summary: z.string().nullable() })
      .nullable(),
    text: z.object({
      format: z.looseObject({ type: z.string() }),
      verbosity: z.string().optional(),
    }),
    truncation: z.enum(["auto", "disabled"]),
    usage: ResponseUsageSchema.nullable(),
    service_tier: z.string(),
    safety_identifier: z.string().nullable(),
    prompt_cache_key: z.string().nullable(),
  })
  // Named, so the event schemas refer to one definition instead of six copies.
  .meta({ id: "ResponseObject" });
export type ResponseObject = z.infer<typeof ResponseObjectSchema>;

// ---- streamed events -----------------------------------------------------------------------

const seq = { sequence_number: z.number().int().nonnegative() };
const at = { item_id: z.string(), output_index: z.number().int().nonnegative() };
const inText = { ...at, content_index: z.number().int().nonnegative() };
const inSummary = { ...at, summary_index: z.number().int().nonnegative() };

const withResponse = <T extends string>(type: T) =>
  z.object({ type: z.literal(type), ...seq, response: ResponseObjectSchema });
const withItem = <T extends string>(type: T) =>
  z.object({
    type: z.literal(type),
    ...seq,
    output_index: z.number().int().nonnegative(),
    item: ResponseOutputItemSchema,
  });

export const ResponseStreamEventSchema = z.discriminatedUnion("type", [
  withResponse("response.created"),
  withResponse("response.queued"),
  withResponse("response.in_progress"),
  withResponse("response.completed"),
  withResponse("response.incomplete"),
  withResponse("response.failed"),
  withItem("response.output_item.added"),
  withItem("response.output_item.done"),
  z.object({
    type: z.literal("response.content_part.added"),
    ...seq,
    ...inText,
    part: OutputTextContentSchema,
  }),
  z.object({
    type: z.literal("response.content_part.done"),
    ...seq,
    ...inText,
    part: OutputTextContentSchema,
  }),
  z.object({
    type: z.literal("response.output_text.delta"),
    ...seq,
    ...inText,
    delta: z.string(),
    logprobs: z.array(z.unknown()),
  }),
  z.object({
    type: z.literal("response.output_text.done"),
    ...seq,
    ...inText,
    text: z.string(),
    logprobs: z.array(z.unknown()),
  }),
  z.object({
    type: z.literal("response.reasoning_summary_part.added"),
    ...seq,
    ...inSummary,
    part: SummaryTextSchema,
  }),
  z.object({
    type: z.literal("response.reasoning_summary_part.done"),
    ...seq,
    ...inSummary,
    part: SummaryTextSchema,
  }),
  z.object({
    type: z.literal("response.reasoning_summary_text.delta"),
    ...seq,
    ...inSummary,
    delta: z.string(),
  }),
  z.object({
    type: z.literal("response.reasoning_summary_text.done"),
    ...seq,
    ...inSummary,
    text: z.string(),
  }),
  z.object({
    type: z.literal("response.function_call_arguments.delta"),
    ...seq,
    ...at,
    delta: z.string(),
  }),
  z.object({
    type: z.literal("response.function_call_arguments.done"),
    ...seq,
    ...at,
    name: z.string(),
    arguments: z.string(),
  }),
  z.object({
    type: z.literal("response.custom_tool_call_input.delta"),
    ...seq,
    ...at,
    delta: z.string(),
  }),
  z.object({
    type: z.literal("response.custom_tool_call_input.done"),
    ...seq,
    ...at,
    input: z.string(),
  }),
]);
export type ResponseStreamEvent = z.infer<typeof ResponseStreamEventSchema>;
export type ResponseStreamEventType = ResponseStreamEvent["type"];

/** One page of `GET /v1/responses/{id}/input_items`. */
export const InputItemListSchema = z.object({
  object: z.literal("list"),
  data: z.array(z.looseObject({ type: z.string(), id: z.string() })),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});
export type InputItemList = z.infer<typeof InputItemListSchema>;
