import { randomUUID } from "node:crypto";
import {
  isSubjectToken,
  type Capability,
  type ChatDelivery,
  type ContextName,
  type StoredChatCompletion,
  type SubjectSpace,
} from "../../../contracts/index.js";
import type { CapabilityCatalog } from "../../catalog.js";
import {
  DeadlineExceededError,
  IdempotencyMismatchError,
  ServiceUnavailableError,
  StreamNotFoundError,
} from "../../errors.js";
import { ID_NAMESPACES, sha256, stableJson, uuidV5 } from "../../ids.js";
import type { Log } from "../../log.js";
import { withDbRetry } from "../../db-retry.js";
import type {
  Principal,
  ResultFeed,
  StreamDirectory,
  StreamPresence,
  StreamRecord,
} from "../../ports.js";
import type { ChatCommands, ChatInput, ClientOrigin } from "../chat-commands.js";
import { decodeResultEvents } from "../result-decoder.js";
import { AttemptSequencer, type Delivery } from "./attempt-sequencer.js";
import { ChatRun, type RunIdentity, type RunReader } from "./chat-run.js";
import { RunFeed } from "./run-feed.js";
import { answerAsDelta, storedCompletion } from "./stored-completion.js";

/** Ports and settings of the run registry. */
export interface ChatRunsDeps {
  commands: ChatCommands;
  catalog: CapabilityCatalog;
  subjects: SubjectSpace;
  results: ResultFeed;
  directory: StreamDirectory;
  /** Other instances' readers (a stream is cancelled only when nobody reads it anywhere). */
  presence?: StreamPresence | undefined;
  log: Log;
  /** How long a plain stream whose last reader left keeps running for a resume (0 = none). */
  cancelGraceMs: number;
  /** A foreground request's deadline. */
  deadlineMs: number;
  /** How long a new request waits for its context's database through an outage (0: not). */
  writeWaitMs?: number;
}

/** How a new stream is started. */
export interface StartOptions {
  principal: Principal;
  correlationId: string;
  log: Log;
  origin?: ClientOrigin;
  /** `Idempotency-Key`: a retry with the same key (and tenant) attaches to the same stream. */
  idempotencyKey?: string | undefined;
  /** A stream id the client chose (same effect as an idempotency key). */
  streamId?: string | undefined;
  /** A per-key stream slot taken for this request; released when the run closes. */
  releaseSlot?: () => void;
  /** Told the stream id as soon as it is known (before the command is written). */
  onStreamId?: (streamId: string) => void;
}

/**
 * What starting a run needs, whatever its command: the capability, how its results are
 * delivered, and how to write its command (once: a second write of the same stream's command
 * returns `written: false`).
 */
export interface RunSpec {
  capability: Capability;
  /** How the results are delivered (see {@link runDelivery}). */
  delivery: ChatDelivery;
  /**
   * The request fields that decide the answer. When the client names the request (an
   * idempotency key or its own stream id) they are hashed into the delivery, so a retry with
   * another body is refused; otherwise no retry can find the stream and nothing is hashed.
   */
  answerInputs: unknown;
  write(
    ids: { streamId: string; tenant: string; correlationId: string },
    delivery: ChatDelivery,
  ): Promise<{ commandId: string; written: boolean }>;
}

/** How a run's results are delivered. */
export function runDelivery(opts: {
  background?: boolean | null | undefined;
  includeUsage?: boolean | null | undefined;
}): ChatDelivery {
  const d: ChatDelivery = {};
  if (opts.background === true) d.background = true;
  if (opts.includeUsage === true) d.include_usage = true;
  return d;
}

/**
 * The gateway's running chats, by tenant and stream id: starting one (its command written
 * after its results are listened to), attaching readers to one started here or anywhere else,
 * status, cancel, and what happens when readers leave.
 *
 * A plain stream whose last reader leaves is cancelled after `cancelGraceMs` unless a reader
 * came back, here or on another instance; a background stream runs on, and this instance keeps
 * following it (holding its stream slot) until it ends.
 */
export class ChatRuns {
  private readonly runs = new Map<string, ChatRun>();
  private readonly graceTimers = new Map<ChatRun, NodeJS.Timeout>();
  /** Presence held for runs that have readers here. */
  private readonly holds = new Map<ChatRun, () => void>();

  constructor(private readonly deps: ChatRunsDeps) {}

  /** Runs followed by this instance. */
  get size(): number {
    return this.runs.size;
  }

  /**
   * Starts a chat: listens for its results, then writes its command. With an idempotency key
   * or a chosen stream id, a request already written attaches to its stream instead (the same
   * request only: another body is a 422).
   */
  async start(input: ChatInput, opts: StartOptions): Promise<ChatRun> {
    // Everything but how it is delivered (`stream`, `stream_options`, `background`).
    const { stream, stream_options, background, ...answerInputs } = input.request;
    return this.startRun(
      {
        capability: input.capability,
        delivery: runDelivery({ background, includeUsage: stream_options?.include_usage }),
        answerInputs,
        write: (ids, delivery) =>
          this.deps.commands.writeChat(input, ids, delivery, opts.origin ?? {}),
      },
      opts,
    );
  }

  /** Starts a run of any command (see {@link start}). */
  async startRun(spec: RunSpec, opts: StartOptions): Promise<ChatRun> {
    const tenant = opts.principal.tenant;
    const streamId =
      opts.streamId ??
      (opts.idempotencyKey !== undefined
        ? uuidV5(`${tenant}\n${opts.idempotencyKey}`, ID_NAMESPACES.stream)
        : randomUUID());
    opts.onStreamId?.(streamId);
    const named = opts.idempotencyKey !== undefined || opts.streamId !== undefined;
    const delivery = named
      ? { ...spec.delivery, request_hash: sha256(stableJson(spec.answerInputs)) }
      : spec.delivery;
    try {
      const local = this.runs.get(keyOf(tenant, streamId));
      if (local) {
        if (local.identity.delivery.request_hash !== delivery.request_hash) {
          throw new IdempotencyMismatchError();
        }
        if (opts.releaseSlot) local.onClose(opts.releaseSlot);
        return local;
      }
      return await this.startNew({ ...spec, delivery }, opts, streamId);
    } catch (err) {
      opts.releaseSlot?.();
      throw err;
    }
  }

  private async startNew(spec: RunSpec, opts: StartOptions, streamId: string): Promise<ChatRun> {
    const { capability, delivery } = spec;
    const tenant = opts.principal.tenant;
    const early: Delivery[] = [];
    let run: ChatRun | null = null;
    let feed: RunFeed;
    try {
      feed = await RunFeed.open(
        this.deps.results,
        capability.context,
        this.subjectsOf(capability.context, tenant, streamId),
        opts.log,
        (d) => (run ? run.accept(d) : early.push(...d)),
      );
    } catch (err) {
      throw new ServiceUnavailableError("The message bus is unavailable; retry shortly.", 1, err);
    }
    let written: { commandId: string; written: boolean };
    try {
      written = await this.writeThroughOutage(
        () => spec.write({ streamId, tenant, correlationId: opts.correlationId }, delivery),
        capability.context,
        opts.log,
      );
    } catch (err) {
      feed.close();
      throw new ServiceUnavailableError(
        `The ${capability.context} context is unavailable; retry shortly.`,
        1,
        err,
      );
    }
    let identity: RunIdentity = {
      streamId,
      id: `chatcmpl-${streamId}`,
      created: Math.floor(Date.now() / 1000),
      model: capability.id,
      capability,
      tenant,
      correlationId: opts.correlationId,
      commandId: written.commandId,
      delivery,
    };
    if (!written.written) {
      // A retry: the stream exists (on this tenant: the command id includes it).
      const record = await this.deps.directory.find(tenant, streamId);
      if (!record || record.delivery.request_hash !== delivery.request_hash) {
        feed.close();
        throw new IdempotencyMismatchError();
      }
      identity = { ...this.identityOf(tenant, streamId, record)!, delivery: record.delivery };
    }
    run = this.register(new ChatRun(identity, (r) => this.idle(r)), feed);
    if (opts.releaseSlot) run.onClose(opts.releaseSlot);
    run.accept(early.splice(0));
    if (!written.written) await feed.fill();
    else {
      opts.log.info(
        {
          stream_id: streamId,
          command_id: written.commandId,
          model: capability.id,
          user_id: opts.origin?.userId,
          conversation_id: opts.origin?.conversationId,
          background: delivery.background === true,
        },
        "chat command written",
      );
    }
    if (!run.background) this.armDeadline(run, opts.log);
    return run;
  }

  /**
   * Writes a command, waiting through a short outage of the context's database (a restart, a
   * failover): the request goes through when it is back, within `writeWaitMs` (bounded by the
   * request's deadline); past that it fails as before.
   */
  private async writeThroughOutage<T>(
    write: () => Promise<T>,
    context: ContextName,
    log: Log,
  ): Promise<T> {
    const forMs = Math.min(this.deps.writeWaitMs ?? 0, this.deps.deadlineMs);
    return withDbRetry(`writing a ${context} command`, write, { forMs, capMs: 1_000 }, log);
  }

  /**
   * One of the caller's streams, to read: the run followed here, or one followed from the
   * stored stream (then live) for a stream started anywhere. Another tenant's stream, a
   * malformed id and a missing one all get the same 404.
   */
  async open(principal: Principal, streamId: string, log: Log): Promise<ChatRun> {
    const local = this.runs.get(keyOf(principal.tenant, streamId));
    if (local && !local.isClosed) return local;
    const record = await this.find(principal, streamId);
    const identity = this.identityOf(principal.tenant, streamId, record);
    if (!identity) throw new StreamNotFoundError(streamId);
    const run = new ChatRun(identity, (r) => this.idle(r));
    const feed = await RunFeed.open(
      this.deps.results,
      record.context,
      this.subjectsOf(record.context, principal.tenant, streamId),
      log,
      (d) => run.accept(d),
    );
    // Registered before the first read: a concurrent open finds this run.
    const existing = this.runs.get(keyOf(principal.tenant, streamId));
    if (existing && !existing.isClosed) {
      feed.close();
      return existing;
    }
    this.register(run, feed);
    await feed.fill();
    const t = record.terminal;
    if (!run.finished && t && run.deliveries.length === 0) {
      // The stored events have expired: replay the stored answer as one chunk.
      feed.close();
      run.accept(
        t.kind === "completed"
          ? [
              { kind: "delta", seq: 1, payload: answerAsDelta(t) },
              { ...t, seq: 2 },
            ]
          : [{ ...t, seq: 1 }],
      );
    }
    run.cancelRequested = record.cancelRequested;
    return run;
  }

  /** A reader on `run` after `after` chunks; a reader coming back stops the grace period. */
  attach(run: ChatRun, after = 0): RunReader {
    const timer = this.graceTimers.get(run);
    if (timer) {
      clearTimeout(timer);
      this.graceTimers.delete(run);
    }
    if (!run.finished && !this.holds.has(run) && this.deps.presence) {
      this.holds.set(run, this.deps.presence.hold(run.tenant, run.streamId));
    }
    return run.read(after);
  }

  /** The stored completion of one of the caller's streams, from any instance. */
  async status(principal: Principal, streamId: string): Promise<StoredChatCompletion> {
    const local = this.runs.get(keyOf(principal.tenant, streamId));
    if (local && !local.isClosed) {
      return storedCompletion(local.identity, local.deliveries, local.cancelRequested);
    }
    const record = await this.find(principal, streamId);
    return this.statusFromRecord(principal.tenant, streamId, record);
  }

  /**
   * Cancels one of the caller's streams (idempotent): a `chat_cancel` command stops the
   * handler where it runs, or keeps a queued command from starting. Returns the status object.
   */
  async cancel(
    principal: Principal,
    streamId: string,
    reason: string,
    log: Log,
  ): Promise<StoredChatCompletion> {
    const local = this.runs.get(keyOf(principal.tenant, streamId));
    if (local && !local.isClosed) {
      if (!local.finished && !local.cancelRequested) {
        // Marked first: a reader leaving meanwhile does not write a cancel of its own.
        local.cancelRequested = true;
        await this.deps.commands.writeCancel(local.identity, reason, log);
      }
      return storedCompletion(local.identity, local.deliveries, local.cancelRequested);
    }
    const record = await this.find(principal, streamId);
    if (!record.terminal) {
      await this.deps.commands.writeCancel(
        this.identityOf(principal.tenant, streamId, record)!,
        reason,
        log,
      );
      record.cancelRequested = true;
    }
    return this.statusFromRecord(principal.tenant, streamId, record);
  }

  /** Ends every run here (shutdown): readers end after what they have. */
  closeAll(): void {
    for (const run of [...this.runs.values()]) run.close();
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
  }

  private async statusFromRecord(
    tenant: string,
    streamId: string,
    record: StreamRecord,
  ): Promise<StoredChatCompletion> {
    const identity = this.identityOf(tenant, streamId, record)!;
    // A completed stream's terminal event holds the whole answer: no need to read its deltas.
    if (record.terminal?.kind === "completed") {
      return storedCompletion(identity, [record.terminal], false);
    }
    const deliveries = await this.storedDeliveries(record, tenant, streamId);
    if (record.terminal && !deliveries.some((d) => d.kind !== "delta")) {
      deliveries.push(record.terminal);
    }
    return storedCompletion(identity, deliveries, record.cancelRequested);
  }

  /** The ordered deliveries of a stream's stored events (no subscription). */
  private async storedDeliveries(
    record: StreamRecord,
    tenant: string,
    streamId: string,
  ): Promise<Delivery[]> {
    const subject = this.deps.subjects.result(record.context, tenant, streamId);
    const stored = await this.deps.results.replay(record.context, subject);
    const sequencer = new AttemptSequencer();
    let out: Delivery[] = [];
    for (const m of stored.messages) {
      for (const e of decodeResultEvents(m.data) ?? []) {
        for (const d of sequencer.push(e)) {
          if (d.kind === "reset") out = [];
          else out.push(d);
        }
      }
    }
    return out;
  }

  private subjectsOf(context: ContextName, tenant: string, streamId: string) {
    const s = this.deps.subjects;
    return {
      stored: s.result(context, tenant, streamId),
      live: s.liveResult(context, tenant, streamId),
    };
  }

  private async find(principal: Principal, streamId: string): Promise<StreamRecord> {
    const record = isSubjectToken(streamId)
      ? await this.deps.directory.find(principal.tenant, streamId)
      : null;
    if (!record || !this.deps.catalog.find(record.model)) throw new StreamNotFoundError(streamId);
    return record;
  }

  private identityOf(
    tenant: string,
    streamId: string,
    record: StreamRecord | null,
  ): RunIdentity | null {
    const capability = record ? this.deps.catalog.find(record.model) : undefined;
    if (!record || !capability) return null;
    return {
      streamId,
      id: `chatcmpl-${streamId}`,
      created: Math.floor(record.createdAt.getTime() / 1000),
      model: record.model,
      capability,
      tenant,
      correlationId: record.correlationId,
      commandId: record.commandId,
      delivery: record.delivery,
    };
  }

  private register(run: ChatRun, feed: RunFeed): ChatRun {
    run.feed = feed;
    const key = keyOf(run.tenant, run.streamId);
    this.runs.set(key, run);
    run.onClose(() => {
      if (this.runs.get(key) === run) this.runs.delete(key);
      this.release(run);
      const timer = this.graceTimers.get(run);
      if (timer) clearTimeout(timer);
      this.graceTimers.delete(run);
    });
    return run;
  }

  /** The deadline of a foreground request: readers get a 504 (or an error event); work stops. */
  private armDeadline(run: ChatRun, log: Log): void {
    const timer = setTimeout(() => {
      if (run.finished) return;
      log.warn({ stream_id: run.streamId }, "request deadline passed");
      run.cancelRequested = true;
      run.fail(new DeadlineExceededError(this.deps.deadlineMs));
      void this.writeCancel(run, "deadline exceeded", log);
    }, this.deps.deadlineMs);
    timer.unref();
    run.onClose(() => clearTimeout(timer));
  }

  private release(run: ChatRun): void {
    this.holds.get(run)?.();
    this.holds.delete(run);
  }

  /** The last reader left, or the run finished with none. */
  private idle(run: ChatRun): void {
    if (run.readerCount > 0) return;
    this.release(run);
    if (run.finished || run.isClosed) return run.close();
    if (run.background || run.runsToEnd) return;
    const grace = this.deps.cancelGraceMs;
    if (grace <= 0) return void this.abandon(run);
    if (this.graceTimers.has(run)) return;
    const timer = setTimeout(() => {
      this.graceTimers.delete(run);
      void this.abandon(run);
    }, grace);
    timer.unref();
    this.graceTimers.set(run, timer);
  }

  /** Nobody reads the stream here: cancel it unless a reader is attached elsewhere. */
  private async abandon(run: ChatRun): Promise<void> {
    const log = this.deps.log;
    if (this.deps.presence) {
      // A client may read it on another instance (a resume, or the original request while
      // a resumed reader leaves): only the last reader anywhere stops the work.
      const elsewhere = await this.deps.presence
        .isHeldElsewhere(run.tenant, run.streamId)
        .catch(() => false);
      if (run.readerCount > 0 || run.isClosed) return;
      if (elsewhere) {
        log.info({ stream_id: run.streamId }, "stream read on another instance; left to it");
        return run.close();
      }
    }
    if (run.readerCount > 0 || run.finished) return;
    // Cancelled already (the client asked, or the deadline passed): nothing more to write.
    const already = run.cancelRequested;
    run.cancelRequested = true;
    run.close();
    if (already) return;
    log.info({ stream_id: run.streamId }, "client left before the answer ended");
    await this.writeCancel(run, "client disconnected", log);
  }

  private async writeCancel(run: ChatRun, reason: string, log: Log): Promise<void> {
    await this.deps.commands.writeCancel(run.identity, reason, log).catch(() => undefined);
  }
}

const keyOf = (tenant: string, streamId: string) => `${tenant}\n${streamId}`;
