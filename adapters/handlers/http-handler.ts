import {
  CHAT_FEATURES,
  HandlerResponseSchema,
  HandlerResultEventSchema,
  type ChatCommandPayload,
  type ChatCompletedPayload,
  type EditorActionPayload,
  type HandlerRequest,
  type HandlerResultEvent,
} from "../../contracts/index.js";
import { AnswerAccumulator } from "../../src/answer-accumulator.js";
import {
  AlreadyProcessedError,
  CapabilityError,
  PoisonMessageError,
  type ChatHandler,
  type HandlerContext,
} from "../../src/worker/handler.js";
import { readNdjson, readSse } from "./body-readers.js";
import { postStreaming, type PostedResponse } from "./http-post.js";

/** Where the handler service is and how long it may take (HANDLER_TIMEOUT_MS). */
export interface HttpHandlerOptions {
  url: string;
  timeoutMs: number;
}

/** Raised for 5xx, timeouts and refused connections: the worker redelivers. */
export class TransientHandlerError extends Error {
  override name = "TransientHandlerError";
}

/**
 * The `http` handler: the handler contract of ARCHITECTURE.md, for services in any language
 * (such as a Python FastAPI app). 200 with JSON `{"events": […]}` or a streamed body (SSE or
 * NDJSON, one result event each) → processed; 409 → already processed; 422 → poison; 5xx,
 * timeout, refused → transient. The service writes its own state, so it runs only once the
 * inbox claim is held. Editor actions go the same way: the service receives the structured
 * `editor_action` command and answers result events (deltas may carry edits and diagnostics).
 */
export function httpHandler(opts: HttpHandlerOptions): ChatHandler {
  const handler = {
    name: "http",
    sideEffects: "external" as const,
    // The service receives every parameter; the catalog says which of these it honours.
    honours: CHAT_FEATURES,
    async handle(
      cmd: ChatCommandPayload | EditorActionPayload,
      ctx: HandlerContext,
    ): Promise<ChatCompletedPayload> {
      const request: HandlerRequest = {
        message_id: ctx.message.id,
        subject: ctx.message.subject,
        event_type: ctx.message.eventType,
        event_version: ctx.message.eventVersion,
        occurred_at: ctx.message.occurredAt,
        correlation_id: ctx.correlationId,
        causation_id: ctx.message.causationId,
        tenant_id: ctx.tenant,
        payload: cmd,
      };
      let res: PostedResponse;
      const timeoutMs = opts.timeoutMs;
      try {
        res = await postStreaming(
          opts.url,
          JSON.stringify(request),
          {
            "content-type": "application/json",
            accept: "application/json, text/event-stream, application/x-ndjson",
            "x-correlation-id": ctx.correlationId,
            ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
          },
          { signal: ctx.signal, headersTimeoutMs: timeoutMs, totalTimeoutMs: timeoutMs },
        );
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        throw new TransientHandlerError(`handler unreachable: ${(err as Error).message}`);
      }
      if (res.status === 409) throw new AlreadyProcessedError("handler: already processed (409)");
      if (res.status < 200 || res.status >= 300) {
        const text = (await res.text().catch(() => "")).slice(0, 500);
        const why = `handler answered ${res.status}: ${text}`;
        if (res.status >= 500) throw new TransientHandlerError(why);
        throw new PoisonMessageError(why);
      }
      const answer = new AnswerAccumulator();
      let terminal: ChatCompletedPayload | null = null;
      const onEvent = async (raw: unknown) => {
        const parsed = HandlerResultEventSchema.safeParse(raw);
        if (!parsed.success)
          throw new PoisonMessageError(`handler sent a bad event: ${parsed.error.message}`);
        terminal = (await apply(parsed.data, answer, ctx)) ?? terminal;
      };
      const type = res.header("content-type") ?? "";
      if (type.includes("text/event-stream")) {
        await readSse(res.body, (data) => onEvent(parseJson(data)));
      } else if (type.includes("ndjson")) {
        await readNdjson(res.body, (line) => onEvent(parseJson(line)));
      } else {
        const json = await res
          .text()
          .then((t) => JSON.parse(t) as unknown)
          .catch(() => null);
        const body = HandlerResponseSchema.safeParse(json);
        if (!body.success)
          throw new PoisonMessageError(`handler sent a bad body: ${body.error.message}`);
        for (const e of body.data.events) await onEvent(e);
      }
      return terminal ?? answer.complete("stop");
    },
    // The command is forwarded as it is, whatever its kind.
    handleAction: (cmd: EditorActionPayload, ctx: HandlerContext) => handler.handle(cmd, ctx),
  };
  return handler;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PoisonMessageError(`handler sent invalid JSON: ${text.slice(0, 200)}`);
  }
}

/** Streams a delta, returns a completed payload, or throws a failure. */
async function apply(
  event: HandlerResultEvent,
  answer: AnswerAccumulator,
  ctx: HandlerContext,
): Promise<ChatCompletedPayload | null> {
  switch (event.event_type) {
    case "chat_delta":
      answer.add(event.payload);
      await ctx.emit(event.payload);
      return null;
    case "chat_completed":
      return event.payload;
    case "chat_failed":
      throw new CapabilityError(event.payload.error);
  }
}
