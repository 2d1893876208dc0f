import type { StoredChatCompletion, StreamStatus } from "../../../contracts/index.js";
import type { CancelReason } from "../../cancel-reason.js";
import { DeadlineExceededError } from "../../errors.js";
import type { Log } from "../../log.js";
import { metrics } from "../../observability/metrics.js";
import type { StreamPresence } from "../../ports.js";
import type { Delivery, Terminal } from "./attempt-sequencer.js";
import { whenAbandoned, whenLastReaderLeaves } from "./leave-policy.js";
import type { RunFeed } from "./run-feed.js";
import type { RunIdentity } from "./run-identity.js";
import { RunReader, type ReadableRun } from "./run-reader.js";
import { statusOf, storedCompletion } from "./stored-completion.js";

/** What every run of one gateway instance shares. */
export interface RunServices {
  /** How long a plain stream whose last reader left keeps running for a resume (0 = none). */
  cancelGraceMs: number;
  /** Other instances' readers (a stream is cancelled only when nobody reads it anywhere). */
  presence?: StreamPresence | undefined;
  /** Writes the stream's cancel command (once per stream); rejects if it could not. */
  writeCancel(identity: RunIdentity, reason: CancelReason, log: Log): Promise<void>;
  log: Log;
}

/**
 * Why a run stopped being followed here:
 * - `ended`: it finished and its last reader left (or it had none);
 * - `abandoned`: its readers left and it was cancelled (or had been already);
 * - `read_elsewhere`: its readers left here, but another instance reads it;
 * - `deadline`: its foreground deadline passed (readers get a 504 or an error event);
 * - `shutdown`: this instance is stopping (readers end after what they have);
 * - `replaced`: a concurrent open of the same stream won (this one never had readers).
 */
export type DisposeReason =
  "ended" | "abandoned" | "read_elsewhere" | "deadline" | "shutdown" | "replaced";

/**
 * One running chat (or editor action) on this gateway instance, and the only owner of its
 * life-cycle: its results (one feed, shared by every reader here), its readers, the stream slots
 * taken for it, its deadline, the cancel grace period, the presence it holds for other instances,
 * and its cancel. Surfaces read through a {@link RunReader} and never manage any of these.
 *
 * The run keeps the deliveries of the current attempt, so a reader attaching late on the same
 * instance is served from memory; a `reset` (the answer's attempt changed) starts a new
 * generation that readers notice. {@link dispose} ends everything at once.
 */
export class ChatRun implements ReadableRun {
  deliveries: Delivery[] = [];
  generation = 0;
  private cancelAsked: boolean;
  private runsToEnd = false;
  private terminalEvent: Terminal | null = null;
  private failure: Error | null = null;
  private disposed = false;
  private disposeReason: DisposeReason | null = null;
  private readonly readers = new Set<RunReader>();
  private changed: Promise<void>;
  private signalChange!: () => void;
  /** Stream slots and other holds, released when the run is disposed. */
  private readonly releases: (() => void)[] = [];
  private graceTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private presenceHold: (() => void) | null = null;

  constructor(
    readonly identity: RunIdentity,
    private readonly feed: RunFeed,
    private readonly services: RunServices,
    opts: {
      /** A cancel is known to have been written already (a stream opened from its record). */
      cancelRequested?: boolean;
      /** Told once, when the run is disposed (the registry forgets it). */
      onDispose?: (run: ChatRun, reason: DisposeReason) => void;
    } = {},
  ) {
    this.cancelAsked = opts.cancelRequested === true;
    if (opts.onDispose) {
      const onDispose = opts.onDispose;
      this.releases.push(() => onDispose(this, this.disposeReason!));
    }
    this.changed = new Promise((r) => (this.signalChange = r));
  }

  get streamId(): string {
    return this.identity.streamId;
  }

  get tenant(): string {
    return this.identity.tenant;
  }

  get background(): boolean {
    return this.identity.delivery.background === true;
  }

  get terminal(): Terminal | null {
    return this.terminalEvent;
  }

  get finished(): boolean {
    return this.terminalEvent !== null;
  }

  get isClosed(): boolean {
    return this.disposed;
  }

  get readerCount(): number {
    return this.readers.size;
  }

  /** A cancel command was written for this stream (by anyone, for any reason). */
  get cancelRequested(): boolean {
    return this.cancelAsked;
  }

  get error(): Error | null {
    return this.failure;
  }

  /** The status the run's own view gives (see {@link StreamStatus}). */
  get status(): StreamStatus {
    return statusOf(this.terminalEvent, this.cancelAsked, this.deliveries.length);
  }

  /** The stored-completion object of what this instance holds. */
  storedCompletion(): StoredChatCompletion {
    return storedCompletion(this.identity, this.deliveries, this.cancelAsked);
  }

  /** Takes a batch from the feed. */
  accept(batch: Delivery[]): void {
    if (this.disposed) return;
    for (const d of batch) {
      if (d.kind === "reset") {
        this.generation++;
        this.deliveries = [];
        continue;
      }
      this.deliveries.push(d);
      if (d.kind !== "delta") this.terminalEvent = d;
      if (d.kind === "failed") metrics.streamFailed(this.identity, d.payload.error);
    }
    this.notify();
    if (this.terminalEvent && this.readers.size === 0) this.lastReaderLeft();
  }

  /**
   * A reader after the first `after` deltas. A reader coming back stops the grace period; while
   * the run is unfinished, other instances learn that it is read here.
   */
  read(after = 0): RunReader {
    this.stopGrace();
    if (!this.finished && !this.disposed && !this.presenceHold && this.services.presence) {
      this.presenceHold = this.services.presence.hold(this.tenant, this.streamId);
    }
    const reader = new RunReader(this, after);
    this.readers.add(reader);
    return reader;
  }

  /** A stream slot taken for this run, released when it is disposed. */
  holdSlot(release: () => void): void {
    if (this.disposed) release();
    else this.releases.push(release);
  }

  /** The deadline of a foreground request: readers get a 504 (or an error event); work stops. */
  armDeadline(ms: number, log: Log): void {
    if (this.background || this.disposed || this.deadlineTimer) return;
    this.deadlineTimer = setTimeout(() => {
      if (this.finished) return;
      log.warn({ stream_id: this.streamId }, "request deadline passed");
      const already = this.cancelAsked;
      this.cancelAsked = true;
      this.dispose("deadline", new DeadlineExceededError(ms));
      if (!already) void this.writeCancel("deadline", log);
    }, ms);
    this.deadlineTimer.unref();
  }

  /**
   * Cancels the stream (idempotent): its `chat_cancel` command stops the handler where it runs,
   * or keeps a queued command from starting. Marked first: a reader leaving meanwhile does not
   * write a cancel of its own. Rejects if the command could not be written.
   */
  async cancel(reason: CancelReason, log: Log): Promise<void> {
    if (this.finished || this.cancelAsked) return;
    this.cancelAsked = true;
    await this.services.writeCancel(this.identity, reason, log);
  }

  /** See {@link ReadableRun.keepToEnd}. */
  keepToEnd(): void {
    this.runsToEnd = true;
  }

  nextChange(): Promise<void> {
    return this.changed;
  }

  detach(reader: RunReader): void {
    if (this.readers.delete(reader) && this.readers.size === 0) this.lastReaderLeft();
  }

  agreesUpTo(n: number): boolean {
    return this.generation === 0 && this.feed.agreesUpTo(n);
  }

  /**
   * Ends the run here: the feed, the timers, the presence and the slots are released, and every
   * reader ends after what it has (or throws `failure`). Safe to call more than once.
   */
  dispose(reason: DisposeReason, failure?: Error): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeReason = reason;
    if (failure) this.failure = failure;
    this.feed.close();
    this.stopGrace();
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.releasePresence();
    for (const release of this.releases.splice(0)) release();
    this.notify();
  }

  private notify(): void {
    const signal = this.signalChange;
    this.changed = new Promise((r) => (this.signalChange = r));
    signal();
  }

  /** The last reader left, or the run finished with none: apply the leave policy. */
  private lastReaderLeft(): void {
    if (this.readers.size > 0) return;
    this.releasePresence();
    const action = whenLastReaderLeaves({
      readers: this.readers.size,
      finished: this.finished,
      closed: this.disposed,
      background: this.background,
      runsToEnd: this.runsToEnd,
      waiting: this.graceTimer !== null,
      cancelGraceMs: this.services.cancelGraceMs,
    });
    switch (action) {
      case "close":
        return this.dispose("ended");
      case "abandon":
        return void this.abandon();
      case "wait":
        this.graceTimer = setTimeout(() => {
          this.graceTimer = null;
          void this.abandon();
        }, this.services.cancelGraceMs);
        this.graceTimer.unref();
        return;
      case "keep":
      case "none":
        return;
    }
  }

  /** Nobody reads the stream here: cancel it unless a reader is attached elsewhere. */
  private async abandon(): Promise<void> {
    const { presence, log } = this.services;
    // A client may read it on another instance (a resume, or the original request while a
    // resumed reader leaves): only the last reader anywhere stops the work.
    const readElsewhere = presence
      ? await presence.isHeldElsewhere(this.tenant, this.streamId).catch(() => false)
      : false;
    const action = whenAbandoned({
      readers: this.readers.size,
      finished: this.finished,
      closed: this.disposed,
      readElsewhere,
      cancelRequested: this.cancelAsked,
    });
    if (action === "none") return;
    if (readElsewhere) {
      log.info({ stream_id: this.streamId }, "stream read on another instance; left to it");
      return this.dispose("read_elsewhere");
    }
    this.cancelAsked = true;
    this.dispose("abandoned");
    if (action === "cancel") {
      log.info({ stream_id: this.streamId }, "client left before the answer ended");
      await this.writeCancel("client_disconnected", log);
    }
  }

  /** A cancel the run decided on itself: failures are logged where it is written. */
  private async writeCancel(reason: CancelReason, log: Log): Promise<void> {
    await this.services.writeCancel(this.identity, reason, log).catch(() => undefined);
  }

  private stopGrace(): void {
    if (!this.graceTimer) return;
    clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }

  private releasePresence(): void {
    this.presenceHold?.();
    this.presenceHold = null;
  }
}
