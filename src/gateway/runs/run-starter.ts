import { randomUUID } from "node:crypto";
import type { ContextName } from "../../../contracts/index.js";
import { isDatabaseOutage, isDataException, withDbRetry } from "../../db-retry.js";
import {
  BadRequestError,
  IdempotencyMismatchError,
  ServiceUnavailableError,
} from "../../errors.js";
import { ID_NAMESPACES, sha256, stableJson, uuidV5 } from "../../ids.js";
import type { Log } from "../../log.js";
import type { ResultFeed, StreamDirectory } from "../../ports.js";
import { identityOfRecord, runIdentity, type RunIdentity } from "./run-identity.js";
import { RunFeed } from "./run-feed.js";
import type { WrittenCommand } from "../commands/command-writer.js";
import type { RunSpec, StartOptions } from "./run-spec.js";
import type { StoredRuns } from "./stored-runs.js";

/** A run's parts before it exists: its feed (listening already) and its identity. */
export interface StartedStream {
  feed: RunFeed;
  identity: RunIdentity;
  /** False for a retry of a request already written (its stored results must be read). */
  written: boolean;
}

/** The stream id a request names: its own, one derived from its idempotency key, or a new one. */
export function streamIdOf(opts: StartOptions): string {
  if (opts.streamId !== undefined) return opts.streamId;
  if (opts.idempotencyKey === undefined) return randomUUID();
  return uuidV5(`${opts.principal.tenant}\n${opts.idempotencyKey}`, ID_NAMESPACES.stream);
}

/** The delivery a run is written with: hashed when the client named the request. */
export function namedDelivery(spec: RunSpec, opts: StartOptions): RunSpec["delivery"] {
  const named = opts.idempotencyKey !== undefined || opts.streamId !== undefined;
  return named
    ? { ...spec.delivery, request_hash: sha256(stableJson(spec.answerInputs)) }
    : spec.delivery;
}

/**
 * Starts a stream's command: listens for its results (so nothing is missed), then writes the
 * command, waiting through a short outage of the context's database (a restart, a failover)
 * within `writeWaitMs`, bounded by the request's deadline. A retry of a request already
 * written gets the stored stream's identity, or 422 if it was another request.
 */
export class RunStarter {
  constructor(
    private readonly deps: {
      results: ResultFeed;
      directory: StreamDirectory;
      stored: StoredRuns;
      deadlineMs: number;
      writeWaitMs: number;
    },
  ) {}

  async start(spec: RunSpec, opts: StartOptions, streamId: string): Promise<StartedStream> {
    const { capability, delivery } = spec;
    const tenant = opts.principal.tenant;
    let feed: RunFeed;
    try {
      feed = await RunFeed.open(
        this.deps.results,
        capability.context,
        this.deps.stored.subjectsOf(capability.context, tenant, streamId),
        opts.log,
      );
    } catch (err) {
      throw new ServiceUnavailableError("The message bus is unavailable; retry shortly.", 1, err);
    }
    let written: WrittenCommand;
    try {
      written = await this.writeThroughOutage(
        () => spec.write({ streamId, tenant, correlationId: opts.correlationId }, delivery),
        capability.context,
        opts.log,
      );
    } catch (err) {
      feed.close();
      // Data the database refuses is the request's fault, not an outage: the door refuses what
      // it knows (NUL, lone surrogates); this is the net for anything it does not.
      if (isDataException(err)) {
        throw new BadRequestError(
          "The request holds a value the database cannot store.",
          null,
          "unsupported_value",
        );
      }
      if (!isDatabaseOutage(err)) throw err;
      throw new ServiceUnavailableError(
        `The ${capability.context} context is unavailable; retry shortly.`,
        1,
        err,
      );
    }
    if (written.written) {
      const identity = runIdentity({
        streamId,
        created: written.created,
        capability,
        tenant,
        correlationId: opts.correlationId,
        commandId: written.commandId,
        delivery,
      });
      return { feed, identity, written: true };
    }
    // A retry: the stream exists (on this tenant: the command id includes it).
    const record = await this.deps.directory.find(tenant, streamId);
    if (!record || record.delivery.request_hash !== delivery.request_hash) {
      feed.close();
      throw new IdempotencyMismatchError();
    }
    return {
      feed,
      identity: identityOfRecord(tenant, streamId, record, capability),
      written: false,
    };
  }

  private async writeThroughOutage<T>(
    write: () => Promise<T>,
    context: ContextName,
    log: Log,
  ): Promise<T> {
    const forMs = Math.min(this.deps.writeWaitMs, this.deps.deadlineMs);
    return withDbRetry(`writing a ${context} command`, write, { forMs, capMs: 1_000 }, log);
  }
}
