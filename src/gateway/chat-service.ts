import { randomUUID } from "node:crypto";
import type { Log } from "../log.js";
import { z } from "zod";
import {
  ChatCompletionRequestSchema,
  isSubjectToken,
  type Capability,
  type ChatCompletionRequest,
  type SubjectSpace,
} from "../../contracts/index.js";
import type { CapabilityCatalog } from "../catalog.js";
import {
  BadRequestError,
  ModelNotFoundError,
  NotFoundError,
  ServiceUnavailableError,
} from "../errors.js";
import type { ImmediateDispatcher } from "../outbox/immediate-dispatcher.js";
import type {
  OutboxMessage,
  OutboxWriter,
  Principal,
  ResultFeed,
  StreamDirectory,
} from "../ports.js";
import { buildCancelCommand, buildChatCommand } from "./chat-command.js";
import { ResultStream } from "./result-stream.js";

/** A started chat request: its identity and its ordered results. */
export interface ChatRun {
  /** `chatcmpl-<stream id>`: the same on every chunk. */
  id: string;
  streamId: string;
  created: number;
  model: string;
  capability: Capability;
  request: ChatCompletionRequest;
  results: ResultStream;
  tenant: string;
  correlationId: string;
  /** The chat command's id. */
  commandId: string;
}

/** What the UI shell says about the request's user and conversation. */
export interface ClientOrigin {
  userId?: string | undefined;
  conversationId?: string | undefined;
}

/** Ports and settings the chat use case needs. */
export interface ChatServiceDeps {
  catalog: CapabilityCatalog;
  subjects: SubjectSpace;
  outbox: OutboxWriter;
  /** Publishes the command as soon as it is committed (the relay stays the safety net). */
  dispatcher?: ImmediateDispatcher | undefined;
  results: ResultFeed;
  /** Finds a tenant's earlier streams (for resumes). */
  streams?: StreamDirectory | undefined;
  log: Log;
}

/** True if any string in `value` contains U+0000. */
function containsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\0");
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsNul);
  return false;
}

function firstIssueParam(error: z.ZodError): string | null {
  const path = error.issues[0]?.path;
  return path && path.length > 0 ? path.map(String).join(".") : null;
}

/**
 * The chat use case: validate, resolve the capability, listen for results, then write the
 * command through the owning context's outbox. Listening first means no result can be missed.
 */
export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  /** Validates a raw body; throws {@link BadRequestError} (400) or {@link NotFoundError} (404). */
  parse(body: unknown): { request: ChatCompletionRequest; capability: Capability } {
    const parsed = ChatCompletionRequestSchema.safeParse(body);
    if (!parsed.success) {
      throw new BadRequestError(
        `Invalid request: ${z.prettifyError(parsed.error)}`,
        firstIssueParam(parsed.error),
      );
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
    const capability = this.deps.catalog.find(request.model);
    if (!capability) throw new ModelNotFoundError(request.model);
    return { request, capability };
  }

  /** Starts a validated request. The returned results must be closed by the caller. */
  async start(
    input: { request: ChatCompletionRequest; capability: Capability },
    principal: Principal,
    correlationId: string,
    log: Log = this.deps.log,
    origin: ClientOrigin = {},
  ): Promise<ChatRun> {
    const { request, capability } = input;
    const streamId = randomUUID();
    const { subjects } = this.deps;
    const subject = subjects.result(capability.context, principal.tenant, streamId);
    let results: ResultStream;
    try {
      results = await ResultStream.open(this.deps.results, capability.context, subject, log);
    } catch (err) {
      throw new ServiceUnavailableError("The message bus is unavailable; retry shortly.", 1, err);
    }
    const command = buildChatCommand(subjects, {
      request,
      capability,
      tenant: principal.tenant,
      streamId,
      correlationId,
      userId: origin.userId,
      conversationId: origin.conversationId,
    });
    try {
      await this.write(capability, command);
    } catch (err) {
      results.close();
      throw new ServiceUnavailableError(
        `The ${capability.context} context is unavailable; retry shortly.`,
        1,
        err,
      );
    }
    log.info(
      {
        stream_id: streamId,
        command_id: command.envelope.event_id,
        model: capability.id,
        user_id: origin.userId,
        conversation_id: origin.conversationId,
      },
      "chat command written",
    );
    return {
      id: `chatcmpl-${streamId}`,
      streamId,
      created: Math.floor(Date.now() / 1000),
      model: capability.id,
      capability,
      request,
      results,
      tenant: principal.tenant,
      correlationId,
      commandId: command.envelope.event_id,
    };
  }

  /**
   * Reopens one of the caller's streams: everything stored, then live until its end. Another
   * tenant's stream id, a malformed one and an unknown one all get the same 404.
   */
  async resume(principal: Principal, streamId: string, log: Log = this.deps.log): Promise<ChatRun> {
    const record =
      isSubjectToken(streamId) && this.deps.streams
        ? await this.deps.streams.find(principal.tenant, streamId)
        : null;
    const capability = record ? this.deps.catalog.find(record.model) : undefined;
    if (!record || !capability) {
      throw new NotFoundError(`No stream '${streamId.slice(0, 100)}'.`, "stream_not_found");
    }
    const subject = this.deps.subjects.result(record.context, principal.tenant, streamId);
    const results = await ResultStream.open(this.deps.results, record.context, subject, log, true);
    return {
      id: `chatcmpl-${streamId}`,
      streamId,
      created: Math.floor(record.createdAt.getTime() / 1000),
      model: record.model,
      capability,
      request: { model: record.model, messages: [], stream: true },
      results,
      tenant: principal.tenant,
      correlationId: streamId,
      commandId: streamId,
    };
  }

  /**
   * The client left before the answer ended: stop listening and write a `chat_cancel` command
   * (through the outbox, so it is not lost) that stops the handler wherever it runs.
   */
  async cancel(run: ChatRun, reason: string, log: Log = this.deps.log): Promise<void> {
    const finished = run.results.finished;
    run.results.close();
    if (finished) return;
    const command = buildCancelCommand(this.deps.subjects, {
      capability: run.capability,
      tenant: run.tenant,
      streamId: run.streamId,
      correlationId: run.correlationId,
      causationId: run.commandId,
      reason,
    });
    try {
      await this.write(run.capability, command);
      log.info({ stream_id: run.streamId, reason }, "cancel command written");
    } catch (err) {
      log.error({ err, stream_id: run.streamId }, "could not write the cancel command");
    }
  }

  /** Writes a command through the owning context's outbox, then publishes it at once. */
  private async write(capability: Capability, command: OutboxMessage): Promise<void> {
    await this.deps.outbox.enqueue(capability.context, [command]);
    this.deps.dispatcher?.dispatch(capability.context, [command]);
  }
}
