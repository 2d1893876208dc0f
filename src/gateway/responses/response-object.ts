import type {
  ResponseObject,
  ResponseOutputItem,
  ResponseRecord,
  ResponseStatus,
  ResponseUsage,
} from "../../../contracts/index.js";

/** Who a response is: the same on every instance and every replay. */
export interface ResponseContext {
  /** `resp_<stream id>`. */
  id: string;
  /** The catalog model id the request named. */
  model: string;
  /** Unix seconds: the chat command's time. */
  createdAt: number;
  background: boolean;
  record: ResponseRecord;
}

/** Chat usage, with the detail objects some upstreams add. */
export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/** Chat usage as Responses usage: the detail objects always whole (Codex, Open Responses). */
export function responseUsageOf(u: ChatUsage): ResponseUsage {
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: u.completion_tokens,
    output_tokens_details: {
      reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
    },
    total_tokens: u.total_tokens,
  };
}

/** The state a response object shows. */
export interface ResponseState {
  status: ResponseStatus;
  output?: ResponseOutputItem[];
  usage?: ResponseUsage | null;
  error?: { code: string; message: string } | null;
  incompleteReason?: "max_output_tokens" | "content_filter" | null;
  /** Unix seconds; null until the response ended. */
  completedAt?: number | null;
}

/**
 * The full response object. Every key is present (Open Responses requires them on snapshots
 * too); what the request left out gets OpenAI's defaults; `tools` are the function tools only.
 */
export function buildResponseObject(ctx: ResponseContext, state: ResponseState): ResponseObject {
  const r = ctx.record;
  return {
    id: ctx.id,
    object: "response",
    created_at: ctx.createdAt,
    completed_at: state.completedAt ?? null,
    status: state.status,
    model: ctx.model,
    output: state.output ?? [],
    error: state.error ?? null,
    incomplete_details: state.incompleteReason ? { reason: state.incompleteReason } : null,
    instructions: r.instructions ?? null,
    metadata: r.metadata ?? {},
    previous_response_id: r.previous_response_id ?? null,
    background: ctx.background,
    store: r.store ?? true,
    tools: r.tools ?? [],
    tool_choice: r.tool_choice ?? "auto",
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    temperature: r.temperature ?? 1,
    top_p: r.top_p ?? 1,
    presence_penalty: 0,
    frequency_penalty: 0,
    top_logprobs: r.top_logprobs ?? 0,
    max_output_tokens: r.max_output_tokens ?? null,
    max_tool_calls: r.max_tool_calls ?? null,
    reasoning: r.reasoning
      ? { effort: r.reasoning.effort ?? null, summary: r.reasoning.summary ?? null }
      : null,
    text: textOf(r),
    truncation: r.truncation ?? "disabled",
    usage: state.usage ?? null,
    service_tier: "default",
    safety_identifier: r.safety_identifier ?? null,
    prompt_cache_key: r.prompt_cache_key ?? null,
  };
}

/** `text` as echoed: a format always, a JSON schema format with every key Open Responses wants. */
function textOf(r: ResponseRecord): ResponseObject["text"] {
  const format = r.text?.format ?? { type: "text" };
  const text: ResponseObject["text"] = {
    format:
      format.type === "json_schema"
        ? { ...format, description: format.description ?? null, strict: format.strict ?? false }
        : format,
  };
  if (r.text?.verbosity) text.verbosity = r.text.verbosity;
  return text;
}

/** What `DELETE /v1/responses/{id}` answers. */
export function deletedResponse(id: string): {
  id: string;
  object: "response.deleted";
  deleted: true;
} {
  return { id, object: "response.deleted", deleted: true };
}
