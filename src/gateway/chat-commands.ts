import {
  ChatCompletionRequestSchema,
  type Capability,
  type ChatCapability,
  type ChatCompletionRequest,
  type ChatDelivery,
  type ChatFeature,
  type SubjectSpace,
} from "../../contracts/index.js";
import type { CapabilityCatalog } from "../catalog.js";
import { BadRequestError, ModelNotFoundError } from "../errors.js";
import { plainZodMessage } from "../validation-message.js";
import type { Log } from "../log.js";
import { metrics } from "../observability/metrics.js";
import { traced, tracer } from "../observability/tracing.js";
import type { ImmediateDispatcher } from "../outbox/immediate-dispatcher.js";
import type { OutboxMessage, OutboxWriter } from "../ports.js";
import { withDbRetry } from "../db-retry.js";
import { buildCancelCommand, buildChatCommand } from "./chat-command.js";
import type { RunIdentity } from "./runs/chat-run.js";

/** A validated chat request and the capability it names. */
export interface ChatInput {
  request: ChatCompletionRequest;
  capability: ChatCapability;
}

/** What the UI shell says about the request's user and conversation. */
export interface ClientOrigin {
  userId?: string | undefined;
  conversationId?: string | undefined;
  /** The W3C traceparent the request came with (passed along when tracing is off). */
  traceparent?: string | undefined;
}

/** Ports and settings the chat commands need. */
export interface ChatCommandsDeps {
  catalog: CapabilityCatalog;
  subjects: SubjectSpace;
  outbox: OutboxWriter;
  /** Publishes commands as soon as they are committed (the relay stays the safety net). */
  dispatcher?: ImmediateDispatcher | undefined;
  log: Log;
}

/** How long a cancel keeps being retried while its context's database is unreachable. */
const CANCEL_RETRY_FOR_MS = 60_000;

/** True if any string in `value` contains U+0000. */
export function containsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\0");
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsNul);
  return false;
}

/**
 * The first request field the model cannot answer as asked, with why (null if none): fields the
 * gateway never carries back (deprecated functions, audio output), and fields that shape the
 * answer which the model's handler does not honour (`honours`, from the catalog). Refusing them
 * beats answering as if they were not there (free text to `client.chat.completions.parse()`).
 */
export function unansweredParam(
  request: ChatCompletionRequest,
  model: string,
  honours: readonly ChatFeature[],
): { param: string; message: string } | null {
  if (request.functions != null || request.function_call != null) {
    const param = request.functions != null ? "functions" : "function_call";
    return { param, message: `'${param}' is deprecated and not supported; use 'tools'.` };
  }
  if (request.audio != null || request.modalities?.includes("audio")) {
    const param = request.audio != null ? "audio" : "modalities";
    return { param, message: `Audio output is not supported ('${param}'): answers are text.` };
  }
  const asked: [string, ChatFeature, boolean][] = [
    ["response_format", "response_format", (request.response_format?.type ?? "text") !== "text"],
    ["logprobs", "logprobs", request.logprobs === true],
    ["top_logprobs", "logprobs", request.top_logprobs != null],
    ["web_search_options", "web_search_options", request.web_search_options != null],
  ];
  const param = asked.find(([, feature, on]) => on && !honours.includes(feature))?.[0];
  if (param === undefined) return null;
  const honoured = honours.length > 0 ? `it honours ${honours.join(", ")}` : "it honours none";
  return {
    param,
    message: `The model '${model}' does not support '${param}' (${honoured}); send the request without it, or use a model that does.`,
  };
}

/**
 * The commands a chat becomes: validation of a request, the `chat_completion` command and the
 * `chat_cancel` command, each written through the owning context's outbox and published at
 * once. Command ids derive from the stream id, so writing one twice keeps the first.
 */
export class ChatCommands {
  constructor(private readonly deps: ChatCommandsDeps) {}

  /** Validates a raw body; throws {@link BadRequestError} (400) or {@link NotFoundError} (404). */
  parse(body: unknown): ChatInput {
    const parsed = ChatCompletionRequestSchema.safeParse(body);
    if (!parsed.success) {
      const { message, param } = plainZodMessage(parsed.error);
      throw new BadRequestError(`Invalid request: ${message}.`, param);
    }
    const request = parsed.data;
    // Postgres cannot store U+0000 in jsonb: refuse it here, clearly, instead of failing later.
    if (containsNul(request)) {
      throw new BadRequestError(
        "The request contains a NUL character (U+0000), which is not supported.",
        null,
        "unsupported_character",
      );
    }
    if (request.n != null && request.n > 1) {
      throw new BadRequestError("Only n=1 is supported.", "n", "unsupported_value");
    }
    // Editor actions are capabilities too, but not models: they run through /v1/editor/actions.
    const capability = this.deps.catalog.findChat(request.model);
    if (!capability) throw new ModelNotFoundError(request.model);
    const refused = unansweredParam(request, capability.id, this.deps.catalog.honours(capability));
    if (refused) throw new BadRequestError(refused.message, refused.param, "unsupported_parameter");
    return { request, capability };
  }

  /**
   * Writes a stream's chat command. Returns false if the stream's command was already there (a
   * retry of the same request): nothing is written then.
   */
  async writeChat(
    input: ChatInput,
    identity: Pick<RunIdentity, "streamId" | "tenant" | "correlationId">,
    delivery: ChatDelivery,
    origin: ClientOrigin,
  ): Promise<{ commandId: string; written: boolean }> {
    const command = buildChatCommand(this.deps.subjects, {
      request: input.request,
      capability: input.capability,
      tenant: identity.tenant,
      streamId: identity.streamId,
      correlationId: identity.correlationId,
      userId: origin.userId,
      conversationId: origin.conversationId,
      delivery,
    });
    command.traceId = origin.traceparent;
    const written = await this.writeCommand(input.capability, command);
    return { commandId: command.envelope.event_id, written };
  }

  /**
   * Writes a stream's `chat_cancel` command (once per stream: a second call finds the first),
   * retrying with backoff while the context's database is unreachable, so a cancel is not lost
   * to a short outage or a burst. Resolves once it is written; rejects only after retrying
   * for a minute.
   */
  async writeCancel(run: RunIdentity, reason: string, log: Log = this.deps.log): Promise<void> {
    const command = buildCancelCommand(this.deps.subjects, {
      capability: run.capability,
      tenant: run.tenant,
      streamId: run.streamId,
      correlationId: run.correlationId,
      causationId: run.commandId,
      reason,
    });
    const clog = log.child({ stream_id: run.streamId });
    let written: boolean;
    try {
      written = await withDbRetry(
        "writing a cancel command",
        () => this.writeCommand(run.capability, command),
        { forMs: CANCEL_RETRY_FOR_MS, capMs: 5_000 },
        clog,
      );
    } catch (err) {
      clog.error({ err }, "could not write the cancel command");
      throw err;
    }
    if (written) metrics.streamCancelled(reason);
    clog.info({ reason }, "cancel command written");
  }

  /**
   * Writes a command through the owning context's outbox, then publishes it at once if it was
   * new. Returns false if a command with its id was already there (nothing is written then).
   */
  async writeCommand(capability: Capability, command: OutboxMessage): Promise<boolean> {
    // The row keeps the insert span's trace context, so whoever publishes it continues the
    // trace; with tracing off, the request's own traceparent (if any) is kept as it came.
    const parent = tracer().active() ?? command.traceId;
    const attributes = {
      "sea.context": capability.context,
      "sea.command": command.envelope.event_type,
      "sea.correlation_id": command.envelope.correlation_id,
    };
    return traced("outbox insert", { parent, attributes }, async (traceparent) => {
      command.traceId = traceparent;
      const inserted = await this.deps.outbox.enqueue(capability.context, [command]);
      if (inserted.length === 0) return false;
      this.deps.dispatcher?.dispatch(capability.context, [command]);
      return true;
    });
  }
}
