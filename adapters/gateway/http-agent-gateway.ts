import { setTimeout as sleep } from "node:timers/promises";
import { createParser } from "eventsource-parser";
import type {
  ConversationInfo,
  ConversationRun,
  EditorActionInfo,
  EditorActionInput,
  FinishReason,
  StoredChatCompletion,
} from "../../contracts/index.js";
import {
  GatewayRequestError,
  type ActionRunOptions,
  type AgentGateway,
  type ChatRunHandlers,
  type ChatRunRequest,
} from "../../src/acp/agent-gateway.js";
import { ActionFailedError } from "../../src/lsp/action-gateway.js";
import { HttpActionGateway } from "./http-action-gateway.js";

interface ErrorBody {
  error?: { message?: string; code?: string | null };
}

interface Chunk {
  choices?: {
    delta?: { content?: string | null; reasoning_content?: string | null };
    finish_reason?: FinishReason | null;
  }[];
  error?: { message?: string; code?: string | null };
}

/** How a dropped chat stream is resumed: attempts, and the pause before each. */
export interface ResumePolicy {
  attempts: number;
  delayMs: (attempt: number) => number;
}

const DEFAULT_RESUME: ResumePolicy = {
  attempts: 6,
  delayMs: (n) => Math.min(2_000, 100 * 2 ** n),
};

async function failure(res: Response): Promise<GatewayRequestError> {
  const body = (await res.json().catch(() => ({}))) as ErrorBody;
  return new GatewayRequestError(
    body.error?.message ?? `HTTP ${res.status}`,
    res.status,
    body.error?.code ?? null,
  );
}

/** A fetch that could not reach the gateway, as a status-0 {@link GatewayRequestError}. */
function unreachable(err: unknown): GatewayRequestError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new GatewayRequestError(cause?.code ?? cause?.message ?? String(err), 0, null);
}

/** What one read of a chat's SSE body came to. */
type ReadOutcome = { done: true; finishReason: FinishReason | null } | { done: false };

/** The gateway's HTTP API as an {@link AgentGateway} (what `sea-gateway acp` talks to). */
export class HttpAgentGateway implements AgentGateway {
  constructor(
    /** The gateway's base URL, without `/v1`. */
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly resume: ResumePolicy = DEFAULT_RESUME,
  ) {}

  async listActions(): Promise<EditorActionInfo[]> {
    return (await this.json<{ data: EditorActionInfo[] }>("/v1/editor/actions")).data;
  }

  /**
   * `POST /v1/chat/completions` (stream, the agent's own `X-Stream-Id`); when the stream drops
   * before `[DONE]`, `GET …/{id}/events` with `Last-Event-ID` = the last delta's seq continues
   * it, a few times with a growing pause. An abort only stops reading (cancel is separate).
   */
  async chat(req: ChatRunRequest, handlers: ChatRunHandlers, signal: AbortSignal) {
    let after = 0;
    let res: Response | null = await this.fetch("/v1/chat/completions", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-stream-id": req.streamId,
        "x-conversation-id": req.conversationId,
      },
      body: JSON.stringify({ model: req.model, messages: req.messages, stream: true }),
      signal,
    });
    for (let attempt = 0; ; attempt++) {
      if (res) {
        if (!res.ok || !res.body) throw await failure(res);
        const outcome = await this.readChat(res.body, handlers, (seq) => (after = seq)).catch(
          (err: unknown) => {
            // The run's own failure ends the turn; a broken connection is resumed.
            if (signal.aborted || err instanceof GatewayRequestError) throw err;
            return { done: false } as const;
          },
        );
        if (outcome.done) return { finishReason: outcome.finishReason };
      }
      if (attempt >= this.resume.attempts) {
        throw new GatewayRequestError("the chat stream kept dropping", 0, "stream_dropped");
      }
      await sleep(this.resume.delayMs(attempt), undefined, { signal });
      res = await this.fetch(`/v1/chat/completions/${req.streamId}/events`, {
        headers: { "last-event-id": String(after) },
        signal,
      }).catch((err: unknown) => {
        if (signal.aborted) throw err;
        return null;
      });
      // A gateway restarting or behind a failing proxy: try again after the next pause.
      if (res && res.status >= 500) res = null;
    }
  }

  async cancelChat(streamId: string): Promise<void> {
    const res = await this.fetch(`/v1/chat/completions/${streamId}/cancel`, { method: "POST" });
    if (!res.ok) throw await failure(res);
  }

  chatStatus(streamId: string): Promise<StoredChatCompletion> {
    return this.json(`/v1/chat/completions/${streamId}`);
  }

  async runAction(name: string, input: EditorActionInput, opts: ActionRunOptions) {
    const actions = new HttpActionGateway(this.baseUrl, this.apiKey, {
      "x-conversation-id": opts.conversationId,
    });
    try {
      return await actions.runAction(name, input, { signal: opts.signal, onText: opts.onText });
    } catch (err) {
      if (err instanceof ActionFailedError) {
        throw new GatewayRequestError(err.message, err.status, err.code);
      }
      if (opts.signal.aborted) throw err;
      throw unreachable(err);
    }
  }

  async conversationRuns(conversationId: string): Promise<ConversationRun[] | null> {
    const res = await this.fetch(`/v1/conversations/${encodeURIComponent(conversationId)}/runs`);
    if (res.status === 404) return null;
    if (!res.ok) throw await failure(res);
    return ((await res.json()) as { data: ConversationRun[] }).data;
  }

  async conversations(before?: number) {
    const query = before ? `?before=${before}` : "";
    const body = await this.json<{ data: ConversationInfo[]; has_more: boolean }>(
      `/v1/conversations${query}`,
    );
    return { data: body.data, hasMore: body.has_more };
  }

  /** Reads one SSE body of a chat; tells `onSeq` each delta's seq (the resume cursor). */
  private async readChat(
    body: ReadableStream<Uint8Array>,
    handlers: ChatRunHandlers,
    onSeq: (seq: number) => void,
  ): Promise<ReadOutcome> {
    let outcome: ReadOutcome = { done: false };
    let failed: GatewayRequestError | null = null;
    let finishReason: FinishReason | null = null;
    const parser = createParser({
      onEvent: (ev) => {
        if (ev.data === "[DONE]") {
          outcome = { done: true, finishReason };
          return;
        }
        const chunk = JSON.parse(ev.data) as Chunk;
        if (chunk.error) {
          failed = new GatewayRequestError(
            chunk.error.message ?? "the run failed",
            502,
            chunk.error.code ?? null,
          );
          return;
        }
        const choice = chunk.choices?.[0];
        if (choice?.delta?.reasoning_content) handlers.onReasoning(choice.delta.reasoning_content);
        if (choice?.delta?.content) handlers.onContent(choice.delta.content);
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (ev.id !== undefined && /^\d+$/.test(ev.id)) onSeq(Number(ev.id));
      },
    });
    const decoder = new TextDecoder();
    for await (const bytes of body) {
      parser.feed(decoder.decode(bytes, { stream: true }));
      if (failed) throw failed;
    }
    if (failed) throw failed;
    return outcome;
  }

  private async json<T>(path: string): Promise<T> {
    const res = await this.fetch(path);
    if (!res.ok) throw await failure(res);
    return (await res.json()) as T;
  }

  /** A request with the key; one that cannot reach the gateway is a status-0 error. */
  private async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          accept: "text/event-stream, application/json",
          ...(init.headers as Record<string, string> | undefined),
        },
        ...(init.signal ? {} : { signal: AbortSignal.timeout(30_000) }),
      });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw unreachable(err);
    }
  }
}
