import {
  CHAT_FEATURES,
  type ChatCommandPayload,
  type ChatCompletedPayload,
  type ChatDeltaPayload,
  type ChoiceLogprobs,
  type FinishReason,
} from "../../contracts/index.js";
import { AnswerAccumulator } from "../../src/answer-accumulator.js";
import {
  CapabilityError,
  type ChatHandler,
  type HandlerContext,
} from "../../src/worker/handler.js";
import { readSse, retryAfterSecs } from "./body-readers.js";
import { HttpTimeoutError, postStreaming, type PostedResponse } from "./http-post.js";
import { upstreamAction } from "./openai-actions.js";

/** Where the upstream model server is. */
export interface OpenAIUpstreamOptions {
  baseUrl: string;
  apiKey?: string | undefined;
  /** Time allowed to get the response headers. */
  connectTimeoutMs?: number;
}

interface UpstreamChunk {
  choices?: {
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
      tool_calls?: {
        index: number;
        id?: string;
        type?: "function";
        function?: { name?: string; arguments?: string };
      }[];
    };
    finish_reason?: FinishReason | null;
    logprobs?: ChoiceLogprobs | null;
  }[];
  usage?: ChatCompletedPayload["usage"] | null;
}

type UpstreamChoice = NonNullable<UpstreamChunk["choices"]>[number];

/**
 * What a chunk's choice adds to the answer, or null when it adds nothing (a role or finish-only
 * chunk). Built field by field, in the order of the delta's schema: this runs for every chunk.
 */
export function deltaOf(choice: UpstreamChoice): ChatDeltaPayload | null {
  const d = choice.delta;
  const lp = choice.logprobs;
  const delta: ChatDeltaPayload = {};
  let empty = true;
  if (d?.content) {
    delta.content = d.content;
    empty = false;
  }
  const reasoning = d?.reasoning_content || d?.reasoning;
  if (reasoning) {
    // DeepSeek and vLLM say `reasoning_content`, Ollama and OpenRouter `reasoning`.
    delta.reasoning_content = reasoning;
    empty = false;
  }
  if (d?.tool_calls?.length) {
    delta.tool_calls = d.tool_calls;
    empty = false;
  }
  if (lp && (lp.content?.length || lp.refusal?.length)) {
    delta.logprobs = lp;
    empty = false;
  }
  return empty ? null : delta;
}

/** Upstream HTTP status → what the client sees (data, not code). */
function failureFor(status: number, message: string, retryAfter?: number): CapabilityError {
  const map: Record<number, { status: number; type: string; code: string }> = {
    400: { status: 400, type: "invalid_request_error", code: "upstream_bad_request" },
    404: { status: 404, type: "invalid_request_error", code: "upstream_model_not_found" },
    413: { status: 413, type: "invalid_request_error", code: "upstream_request_too_large" },
    422: { status: 400, type: "invalid_request_error", code: "upstream_bad_request" },
    429: { status: 429, type: "rate_limit_error", code: "upstream_rate_limited" },
    504: { status: 504, type: "upstream_error", code: "upstream_timeout" },
  };
  const m = map[status] ?? { status: 502, type: "upstream_error", code: `upstream_${status}` };
  return new CapabilityError({
    message: `Upstream model: ${message}`,
    type: m.type,
    code: m.code,
    status: m.status,
    ...(retryAfter !== undefined && m.status === 429 ? { retry_after: retryAfter } : {}),
  });
}

/** The request as the client sent it (every parameter under its own name), streamed. */
function requestBody(cmd: ChatCommandPayload): Record<string, unknown> {
  return {
    ...cmd.params,
    ...(cmd.user ? { user: cmd.user } : {}),
    model: cmd.upstream_model ?? cmd.model,
    messages: cmd.messages,
    stream: true,
    stream_options: { include_usage: true },
  };
}

/**
 * The `openai` handler: any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp). Streams
 * content, reasoning and tool-call deltas through as they come, reports usage, and turns upstream
 * errors into failures with the matching client status. The request is aborted when the work is
 * cancelled (the client left) or the worker stops. An editor action runs as a chat of its
 * rendered prompt (see {@link upstreamAction}).
 */
export function openaiUpstreamHandler(opts: OpenAIUpstreamOptions): ChatHandler {
  const url = `${opts.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const handler: ChatHandler = {
    name: "openai",
    sideEffects: "none",
    // The upstream answers every field that shapes the answer (or refuses it with a 400).
    honours: CHAT_FEATURES,
    async handle(cmd, ctx: HandlerContext): Promise<ChatCompletedPayload> {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        accept: "text/event-stream",
        // The request's trace and correlation reach the model server (and its logs).
        "x-correlation-id": ctx.correlationId,
        ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
      };
      if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
      let res: PostedResponse;
      try {
        // The timeout covers getting the headers; a long generation after that is fine.
        res = await postStreaming(url, JSON.stringify(requestBody(cmd)), headers, {
          signal: ctx.signal,
          headersTimeoutMs: opts.connectTimeoutMs ?? 60_000,
        });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        const timedOut = err instanceof HttpTimeoutError;
        throw failureFor(timedOut ? 504 : 502, `unreachable (${(err as Error).message})`);
      }
      if (res.status < 200 || res.status >= 300) {
        const text = (await res.text().catch(() => "")).slice(0, 500);
        throw failureFor(
          res.status,
          `HTTP ${res.status} ${text}`,
          retryAfterSecs(res.header("retry-after") ?? null),
        );
      }
      const answer = new AnswerAccumulator();
      let finish: FinishReason | null = null;
      let usage: ChatCompletedPayload["usage"] | undefined;
      // Synchronous per chunk: a promise only when the emitter applies back-pressure.
      await readSse(res.body, (data) => {
        const chunk = JSON.parse(data) as UpstreamChunk & { error?: { message?: string } };
        if (chunk.error) throw failureFor(502, chunk.error.message ?? "error in stream");
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (!choice) return;
        finish = choice.finish_reason ?? finish;
        const delta = deltaOf(choice);
        if (!delta) return;
        answer.add(delta);
        return ctx.emit(delta);
      });
      return answer.complete(finish, usage);
    },
    handleAction: (cmd, ctx) => upstreamAction(cmd, ctx, (chat) => handler.handle(chat, ctx)),
  };
  return handler;
}
