import type { StoredChatCompletion } from "../../../contracts/index.js";
import type { CancelReason } from "../../cancel-reason.js";
import { IdempotencyMismatchError } from "../../errors.js";
import type { Log } from "../../log.js";
import type { Principal, ResultFeed } from "../../ports.js";
import { ChatRun, type RunServices } from "./chat-run.js";
import { RunFeed } from "./run-feed.js";
import type { RunSpec, StartOptions } from "./run-spec.js";
import { namedDelivery, streamIdOf, type RunStarter } from "./run-starter.js";
import { answerAsDelta } from "./stored-completion.js";
import type { StoredRuns } from "./stored-runs.js";

/** What the registry needs. */
export interface ChatRunsDeps {
  starter: RunStarter;
  stored: StoredRuns;
  results: ResultFeed;
  /** What every run shares (grace, presence, how a cancel is written). */
  services: RunServices;
  /** A foreground request's deadline. */
  deadlineMs: number;
}

/**
 * The runs this gateway instance follows, by tenant and stream id: a registry and a starter.
 * Each {@link ChatRun} owns its own life-cycle; the registry starts runs (a retry of a named
 * request attaches to the one it started), opens streams started anywhere (from the stored
 * stream, then live), answers status and cancel for streams followed here or not, and ends
 * them all at shutdown.
 */
export class ChatRuns {
  private readonly runs = new Map<string, ChatRun>();

  constructor(private readonly deps: ChatRunsDeps) {}

  /** Runs followed by this instance. */
  get size(): number {
    return this.runs.size;
  }

  /**
   * Starts a run: listens for its results, then writes its command. With an idempotency key or
   * a chosen stream id, a request already written attaches to its stream instead (the same
   * request only: another body is a 422). The slot in `opts` is released with the run (or at
   * once if it never starts).
   */
  async start(spec: RunSpec, opts: StartOptions): Promise<ChatRun> {
    const streamId = streamIdOf(opts);
    opts.onStreamId?.(streamId);
    const delivery = namedDelivery(spec, opts);
    try {
      const local = this.runs.get(keyOf(opts.principal.tenant, streamId));
      if (local) {
        if (local.identity.delivery.request_hash !== delivery.request_hash) {
          throw new IdempotencyMismatchError();
        }
        if (opts.releaseSlot) local.holdSlot(opts.releaseSlot);
        return local;
      }
      const started = await this.deps.starter.start({ ...spec, delivery }, opts, streamId);
      const run = this.register(
        new ChatRun(started.identity, started.feed, this.deps.services, { onDispose: this.forget }),
      );
      if (opts.releaseSlot) run.holdSlot(opts.releaseSlot);
      started.feed.deliverTo((d) => run.accept(d));
      if (!started.written) await started.feed.fill();
      else {
        opts.log.info(
          {
            stream_id: streamId,
            command_id: started.identity.commandId,
            model: spec.capability.id,
            user_id: opts.origin?.userId,
            conversation_id: opts.origin?.conversationId,
            background: delivery.background === true,
          },
          "chat command written",
        );
      }
      run.armDeadline(this.deps.deadlineMs, opts.log);
      return run;
    } catch (err) {
      opts.releaseSlot?.();
      throw err;
    }
  }

  /**
   * One of the caller's streams, to read: the run followed here, or one followed from the
   * stored stream (then live) for a stream started anywhere. Another tenant's stream, a
   * malformed id and a missing one all get the same 404.
   */
  async open(principal: Principal, streamId: string, log: Log): Promise<ChatRun> {
    const local = this.local(principal, streamId);
    if (local) return local;
    const found = await this.deps.stored.find(principal, streamId);
    const { record, identity } = found;
    const feed = await RunFeed.open(
      this.deps.results,
      record.context,
      this.deps.stored.subjectsOf(record.context, principal.tenant, streamId),
      log,
    );
    const run = new ChatRun(identity, feed, this.deps.services, {
      cancelRequested: record.cancelRequested,
      onDispose: this.forget,
    });
    // Registered before the first read: a concurrent open finds this run.
    const existing = this.local(principal, streamId);
    if (existing) {
      run.dispose("replaced");
      return existing;
    }
    this.register(run);
    feed.deliverTo((d) => run.accept(d));
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
    return run;
  }

  /** The stored completion of one of the caller's streams, from any instance. */
  async status(principal: Principal, streamId: string): Promise<StoredChatCompletion> {
    const local = this.local(principal, streamId);
    if (local) return local.storedCompletion();
    return this.deps.stored.status(await this.deps.stored.find(principal, streamId));
  }

  /**
   * Cancels one of the caller's streams (idempotent), wherever it runs: a `chat_cancel` command
   * stops the handler, or keeps a queued command from starting. Returns the status object.
   */
  async cancel(
    principal: Principal,
    streamId: string,
    reason: CancelReason,
    log: Log,
  ): Promise<StoredChatCompletion> {
    const local = this.local(principal, streamId);
    if (local) {
      await local.cancel(reason, log);
      return local.storedCompletion();
    }
    const found = await this.deps.stored.find(principal, streamId);
    if (!found.record.terminal) {
      await this.deps.services.writeCancel(found.identity, reason, log);
      found.record.cancelRequested = true;
    }
    return this.deps.stored.status(found);
  }

  /** Ends every run here (shutdown): readers end after what they have. */
  closeAll(): void {
    for (const run of [...this.runs.values()]) run.dispose("shutdown");
  }

  /** The run of one of the caller's streams if this instance follows it (else null). */
  followed(principal: Principal, streamId: string): ChatRun | null {
    return this.local(principal, streamId);
  }

  private local(principal: Principal, streamId: string): ChatRun | null {
    const run = this.runs.get(keyOf(principal.tenant, streamId));
    return run && !run.isClosed ? run : null;
  }

  private register(run: ChatRun): ChatRun {
    this.runs.set(keyOf(run.tenant, run.streamId), run);
    return run;
  }

  /** A disposed run is no longer followed here (a replaced one was never registered). */
  private readonly forget = (run: ChatRun): void => {
    const key = keyOf(run.tenant, run.streamId);
    if (this.runs.get(key) === run) this.runs.delete(key);
  };
}

const keyOf = (tenant: string, streamId: string) => `${tenant}\n${streamId}`;
