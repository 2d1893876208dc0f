import { z } from "zod";

/**
 * The OpenAI Responses API request (`POST /v1/responses`), as the gateway accepts it: what it
 * maps onto a chat run, and what it accepts and ignores because clients always send it (Codex:
 * `store`, `include`, `prompt_cache_key`, `client_metadata`, built-in tools). Unknown top-level
 * fields are dropped, as for chat. Input items keep fields we do not read (`phase`, `status`…)
 * so a stored item lists back as it came.
 */

// ---- input content parts -------------------------------------------------------------------

const InputTextPart = z.looseObject({ type: z.literal("input_text"), text: z.string() });
const InputImagePart = z.looseObject({
  type: z.literal("input_image"),
  image_url: z.string().nullish(),
  file_id: z.string().nullish(),
  detail: z.string().nullish(),
});
const InputFilePart = z.looseObject({
  type: z.literal("input_file"),
  file_data: z.string().optional(),
  file_id: z.string().nullish(),
  file_url: z.string().optional(),
  filename: z.string().optional(),
});
/** What an assistant message replayed from an earlier output holds. */
const OutputTextPart = z.looseObject({ type: z.literal("output_text"), text: z.string() });
const RefusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });

/** Content parts by `type`: the bridge refuses any other type naming it. */
export const INPUT_PART_SCHEMAS = {
  input_text: InputTextPart,
  input_image: InputImagePart,
  input_file: InputFilePart,
  output_text: OutputTextPart,
  refusal: RefusalPart,
} as const;
export const InputContentPartSchema = z.union(Object.values(INPUT_PART_SCHEMAS));
export type InputContentPart = z.infer<typeof InputContentPartSchema>;

// ---- input items ---------------------------------------------------------------------------

const itemId = z.string().min(1).max(256).nullish();

export const MessageItemSchema = z.looseObject({
  type: z.literal("message").optional(),
  id: itemId,
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(InputContentPartSchema)]),
  status: z.string().nullish(),
});

export const FunctionCallItemSchema = z.looseObject({
  type: z.literal("function_call"),
  id: itemId,
  call_id: z.string().min(1),
  name: z.string().min(1),
  /** JSON text, as the model wrote it. */
  arguments: z.string(),
  /** Codex's namespace tools: the call names `name` inside this namespace. */
  namespace: z.string().nullish(),
  status: z.string().nullish(),
});

const ToolOutput = z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]);

export const FunctionCallOutputItemSchema = z.looseObject({
  type: z.literal("function_call_output"),
  id: itemId,
  call_id: z.string().min(1),
  output: ToolOutput,
  status: z.string().nullish(),
});

export const ReasoningItemSchema = z.looseObject({
  type: z.literal("reasoning"),
  id: itemId,
  summary: z.array(z.looseObject({ type: z.string(), text: z.string() })).optional(),
  content: z.array(z.looseObject({ type: z.string() })).nullish(),
  encrypted_content: z.string().nullish(),
});

export const CustomToolCallItemSchema = z.looseObject({
  type: z.literal("custom_tool_call"),
  id: itemId,
  call_id: z.string().min(1),
  name: z.string().min(1),
  input: z.string(),
});

export const CustomToolCallOutputItemSchema = z.looseObject({
  type: z.literal("custom_tool_call_output"),
  id: itemId,
  call_id: z.string().min(1),
  output: ToolOutput,
});

export const ItemReferenceSchema = z.looseObject({
  type: z.literal("item_reference"),
  id: z.string().min(1),
});

/**
 * Items of built-in tools (the client's history from OpenAI, e.g. Codex's `local_shell_call` or
 * `tool_search_call`): accepted and kept, not bridged (no chat model ran those tools). Refusing
 * them would fail a whole Codex turn (Bifrost #4596).
 */
export const BUILT_IN_ITEM_TYPES = [
  "web_search_call",
  "file_search_call",
  "computer_call",
  "computer_call_output",
  "local_shell_call",
  "local_shell_call_output",
  "shell_call",
  "shell_call_output",
  "apply_patch_call",
  "apply_patch_call_output",
  "code_interpreter_call",
  "image_generation_call",
  "mcp_call",
  "mcp_list_tools",
  "mcp_approval_request",
  "mcp_approval_response",
  "tool_search_call",
  "tool_search_output",
  "compaction",
] as const;
export const BuiltInItemSchema = z.looseObject({
  type: z.enum(BUILT_IN_ITEM_TYPES),
  id: itemId,
});

/** Item schemas by `type` (a message may leave `type` out). */
export const INPUT_ITEM_SCHEMAS = {
  message: MessageItemSchema,
  function_call: FunctionCallItemSchema,
  function_call_output: FunctionCallOutputItemSchema,
  reasoning: ReasoningItemSchema,
  custom_tool_call: CustomToolCallItemSchema,
  custom_tool_call_output: CustomToolCallOutputItemSchema,
  item_reference: ItemReferenceSchema,
} as const;

export const ResponseInputItemSchema = z.union([
  ...Object.values(INPUT_ITEM_SCHEMAS),
  BuiltInItemSchema,
]);
export type ResponseInputItem = z.infer<typeof ResponseInputItemSchema>;
export type MessageItem = z.infer<typeof MessageItemSchema>;
export type FunctionCallItem = z.infer<typeof FunctionCallItemSchema>;

// ---- tools ---------------------------------------------------------------------------------

/** Chat function names: what every upstream accepts. */
const toolName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -");

export const FunctionToolSchema = z.object({
  type: z.literal("function"),
  name: toolName,
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
export type FunctionTool = z.infer<typeof FunctionToolSchema>;

/** A free-form tool: the model writes one string (`format` is a hint we cannot enforce). */
export const CustomToolSchema = z.object({
  type: z.literal("custom"),
  name: toolName,
  description: z.string().nullish(),
  format: z.looseObject({ type: z.string() }).nullish(),
});

/** Codex's tool groups: their functions are offered flattened. */
export const NamespaceToolSchema = z.object({
  type: z.literal("namespace"),
  name: toolName,
  description: z.string().nullish(),
  tools: z.array(z.union([FunctionToolSchema, z.looseObject({ type: z.string() })])),
});

const KNOWN_TOOL_TYPES = new Set(["function", "custom", "namespace"]);
/** Built-in and future tool types (`web_search`, `mcp`, …): accepted, never offered. */
export const OtherToolSchema = z.looseObject({
  type: z.string().refine((t) => !KNOWN_TOOL_TYPES.has(t)),
});

/** The tools we bridge, by `type`; any other type is accepted as {@link OtherToolSchema}. */
export const TOOL_SCHEMAS = {
  function: FunctionToolSchema,
  custom: CustomToolSchema,
  namespace: NamespaceToolSchema,
} as const;

export const ResponseToolSchema = z.union([...Object.values(TOOL_SCHEMAS), OtherToolSchema]);
export type ResponseTool = z.infer<typeof ResponseToolSchema>;

/** `tool_choice` objects we map, by `type`. */
export const TOOL_CHOICE_SCHEMAS = {
  function: z.looseObject({ type: z.literal("function"), name: z.string().min(1) }),
  custom: z.looseObject({ type: z.literal("custom"), name: z.string().min(1) }),
  allowed_tools: z.looseObject({
    type: z.literal("allowed_tools"),
    mode: z.enum(["auto", "required"]),
    tools: z.array(z.looseObject({ type: z.string(), name: z.string().optional() })),
  }),
} as const;

export const ResponseToolChoiceSchema = z.union([
  z.enum(["auto", "none", "required"]),
  ...Object.values(TOOL_CHOICE_SCHEMAS),
  /** A built-in tool (`{type:"web_search"}`): that tool is dropped, so is the choice. */
  z.looseObject({
    type: z.string().refine((t) => !["function", "custom", "allowed_tools"].includes(t)),
  }),
]);
export type ResponseToolChoice = z.infer<typeof ResponseToolChoiceSchema>;

// ---- text and reasoning --------------------------------------------------------------------

export const TextFormatSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: z.string().min(1).max(64),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().nullish(),
    strict: z.boolean().nullish(),
  }),
]);

export const TextConfigSchema = z.object({
  format: TextFormatSchema.optional(),
  /** Accepted and echoed; chat has no equivalent every upstream takes. */
  verbosity: z.enum(["low", "medium", "high"]).nullish(),
});
export type TextConfig = z.infer<typeof TextConfigSchema>;

export const ReasoningConfigSchema = z.object({
  effort: z.string().nullish(),
  /** Accepted and echoed: the upstream's reasoning text is streamed as it comes. */
  summary: z.string().nullish(),
});

// ---- the request ---------------------------------------------------------------------------

/** Accepted, echoed where the response object has the key, otherwise ignored. */
const accepted = z.unknown().optional();

export const ResponsesRequestSchema = z.object({
  model: z.string().min(1).max(256),
  /** A string is one user message. */
  input: z.union([z.string(), z.array(ResponseInputItemSchema)]),
  instructions: z.string().nullish(),
  tools: z.array(ResponseToolSchema).nullish(),
  tool_choice: ResponseToolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  background: z.boolean().nullish(),
  /** OpenAI's "retrievable later" flag: every response is stored here anyway. */
  store: z.boolean().nullish(),
  previous_response_id: z.string().min(1).max(256).nullish(),
  text: TextConfigSchema.nullish(),
  reasoning: ReasoningConfigSchema.nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, "must have at most 16 keys")
    .nullish(),
  user: z.string().max(256).nullish(),
  prompt_cache_key: z.string().max(1024).nullish(),
  safety_identifier: z.string().max(256).nullish(),
  truncation: z.enum(["auto", "disabled"]).nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  max_tool_calls: z.number().int().positive().nullish(),
  service_tier: z.string().nullish(),
  include: z.array(z.string()).nullish(),
  prompt_cache_retention: accepted,
  stream_options: accepted,
  client_metadata: accepted,
  context_management: accepted,
  moderation: accepted,
  /** Server-side state we do not hold: refused with a 400 naming them. */
  conversation: accepted,
  prompt: accepted,
});
export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;
