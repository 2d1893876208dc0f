import type { ResponseObject, SubjectSpace } from "../../../contracts/index.js";
import { StreamNotFoundError } from "../../errors.js";
import type { Log } from "../../log.js";
import type { Principal } from "../../ports.js";
import { buildResponseDeleted } from "../commands/chat-command.js";
import type { CommandWriter } from "../commands/command-writer.js";
import type { Delivery } from "../runs/attempt-sequencer.js";
import type { ChatRuns } from "../runs/chat-runs.js";
import type { FoundStream, StoredRuns } from "../runs/stored-runs.js";
import type { ChainLink } from "./chain.js";
import { NotBackgroundError, ResponseNotFoundError } from "./errors.js";
import { responseObjectOf, type RenderInput } from "./event-renderer.js";
import { responseIdOf, streamIdOfResponse } from "./ids.js";
import { deletedResponse, type ResponseContext } from "./response-object.js";

/** One of the caller's responses: its stream, who it is, and its deliveries so far. */
export interface FoundResponse {
  found: FoundStream;
  ctx: ResponseContext;
  deliveries: RenderInput[];
}

/** The run's deliveries as the renderer reads them (a generation holds no reset). */
export const renderInputs = (ds: readonly Delivery[]): RenderInput[] =>
  ds.filter((d): d is Exclude<Delivery, { kind: "reset" }> => d.kind !== "reset");

/** `completed_at` of a response that ended: its terminal event's time, so replays agree. */
export function endedAt(ds: readonly RenderInput[]): (() => number) | undefined {
  const last = ds.at(-1) as { at?: number } | undefined;
  return last?.at !== undefined ? () => last.at! : undefined;
}

/** The response context of a stream that is a response (its delivery holds the record). */
export function responseContextOf(found: FoundStream): ResponseContext | null {
  const { identity, record } = found;
  const stored = record.delivery.response;
  if (!stored) return null;
  return {
    id: responseIdOf(identity.streamId),
    model: identity.model,
    createdAt: identity.created,
    background: identity.delivery.background === true,
    record: stored,
  };
}

/**
 * Responses as resources, from any gateway instance: found through the stream directory (the
 * caller's tenant only; a missing, foreign, deleted or non-response id is the same 404), their
 * object and chain links, cancel (background only) and delete.
 */
export class StoredResponses {
  constructor(
    private readonly deps: {
      runs: ChatRuns;
      stored: StoredRuns;
      writer: CommandWriter;
      subjects: SubjectSpace;
    },
  ) {}

  async find(principal: Principal, responseId: string): Promise<FoundResponse> {
    const streamId = streamIdOfResponse(responseId);
    if (!streamId) throw new ResponseNotFoundError(responseId);
    let found: FoundStream;
    try {
      found = await this.deps.stored.find(principal, streamId);
    } catch (err) {
      if (err instanceof StreamNotFoundError) throw new ResponseNotFoundError(responseId);
      throw err;
    }
    const ctx = responseContextOf(found);
    if (!ctx) throw new ResponseNotFoundError(responseId);
    // A run followed here holds what has arrived; otherwise the stored stream does.
    const local = this.deps.runs.followed(principal, streamId);
    const deliveries = renderInputs(
      local ? local.deliveries : await this.deps.stored.deliveries(found),
    );
    return { found, ctx, deliveries };
  }

  /** The response object as it stands. */
  async object(principal: Principal, responseId: string): Promise<ResponseObject> {
    return objectOf(await this.find(principal, responseId));
  }

  /** A link of a `previous_response_id` chain: what it was given and what it answered. */
  async link(principal: Principal, responseId: string): Promise<ChainLink | null> {
    try {
      const r = await this.find(principal, responseId);
      return { record: r.ctx.record, output: objectOf(r).output };
    } catch (err) {
      if (err instanceof ResponseNotFoundError) return null;
      throw err;
    }
  }

  /**
   * Cancels a background response (idempotent: a finished one stays as it finished); a
   * synchronous one is refused (it ends with its client). Answers the object.
   */
  async cancel(principal: Principal, responseId: string, log: Log): Promise<ResponseObject> {
    const r = await this.find(principal, responseId);
    if (!r.ctx.background) throw new NotBackgroundError(responseId);
    const status = await this.deps.runs.cancel(
      principal,
      r.found.identity.streamId,
      "client_request",
      log,
    );
    return objectOf(r, status.status === "cancelled");
  }

  /**
   * Deletes a response: its deletion is recorded with its stream (every instance then answers
   * 404 for it), and an unfinished one is cancelled: nobody can read its answer any more.
   */
  async delete(principal: Principal, responseId: string, log: Log) {
    const r = await this.find(principal, responseId);
    const { identity, record } = r.found;
    // Cancelled first: once deleted, the stream is found no more, not even to cancel it.
    if (!record.terminal) {
      await this.deps.runs.cancel(principal, identity.streamId, "client_request", log);
    }
    await this.deps.writer.writeCommand(
      identity.capability,
      buildResponseDeleted(this.deps.subjects, { ...identity, causationId: identity.commandId }),
    );
    log.info({ stream_id: identity.streamId }, "response deleted");
    return deletedResponse(responseId);
  }
}

function objectOf(
  r: FoundResponse,
  cancelRequested = r.found.record.cancelRequested,
): ResponseObject {
  const clock = endedAt(r.deliveries);
  return responseObjectOf(r.ctx, r.deliveries, { cancelRequested, ...(clock ? { clock } : {}) });
}
