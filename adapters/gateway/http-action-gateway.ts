import { createParser } from "eventsource-parser";
import type {
  EditorActionInfo,
  EditorActionInput,
  EditorActionResult,
} from "../../contracts/index.js";
import {
  ActionFailedError,
  type ActionGateway,
  type RunActionOptions,
} from "../../src/lsp/action-gateway.js";

interface ErrorBody {
  error?: { message?: string; code?: string | null };
}

/** The gateway's HTTP API as an {@link ActionGateway} (what `sea-gateway lsp` talks to). */
export class HttpActionGateway implements ActionGateway {
  constructor(
    /** The gateway's base URL, without `/v1`. */
    private readonly baseUrl: string,
    private readonly apiKey: string,
    /** Sent with every request (e.g. `X-Conversation-Id`). */
    private readonly extraHeaders: Record<string, string> = {},
  ) {}

  async listActions(): Promise<EditorActionInfo[]> {
    const res = await fetch(`${this.baseUrl}/v1/editor/actions`, {
      headers: this.headers(),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw await failure(res);
    return ((await res.json()) as { data: EditorActionInfo[] }).data;
  }

  /**
   * Streams the action's SSE events (`text`, `edit`, `diagnostic`, then `done` or `error`). An
   * abort cancels the stream on the gateway (`POST /v1/editor/streams/{id}/cancel`), not only
   * this connection.
   */
  async runAction(
    name: string,
    input: EditorActionInput,
    opts: RunActionOptions = {},
  ): Promise<EditorActionResult> {
    const res = await fetch(`${this.baseUrl}/v1/editor/actions/${encodeURIComponent(name)}`, {
      method: "POST",
      headers: { ...this.headers(), "content-type": "application/json" },
      body: JSON.stringify({ ...input, stream: true }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (!res.ok || !res.body) throw await failure(res);
    const streamId = res.headers.get("x-stream-id");
    const cancel = () => {
      if (!streamId) return;
      void fetch(`${this.baseUrl}/v1/editor/streams/${streamId}/cancel`, {
        method: "POST",
        headers: this.headers(),
      }).catch(() => undefined);
    };
    opts.signal?.addEventListener("abort", cancel, { once: true });
    let result: EditorActionResult | null = null;
    let error: ActionFailedError | null = null;
    const parser = createParser({
      onEvent: (ev) => {
        const data = JSON.parse(ev.data) as unknown;
        if (ev.event === "text") opts.onText?.((data as { text: string }).text);
        else if (ev.event === "done") result = data as EditorActionResult;
        else if (ev.event === "error") error = errorOf(data as ErrorBody, 502);
      },
    });
    try {
      const decoder = new TextDecoder();
      for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
    } finally {
      opts.signal?.removeEventListener("abort", cancel);
    }
    if (error) throw error;
    if (!result) throw new ActionFailedError("The action's stream ended early.", 502, null);
    return result;
  }

  private headers(): Record<string, string> {
    return {
      ...this.extraHeaders,
      authorization: `Bearer ${this.apiKey}`,
      accept: "text/event-stream, application/json",
    };
  }
}

function errorOf(body: ErrorBody, status: number): ActionFailedError {
  return new ActionFailedError(
    body.error?.message ?? `HTTP ${status}`,
    status,
    body.error?.code ?? null,
  );
}

async function failure(res: Response): Promise<ActionFailedError> {
  const body = (await res.json().catch(() => ({}))) as ErrorBody;
  return errorOf(body, res.status);
}
