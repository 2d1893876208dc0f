import type { Capability, ChatDelivery, StreamStatus } from "../../../contracts/index.js";
import { metrics } from "../../observability/metrics.js";
import type { Delivery } from "./attempt-sequencer.js";
import type { RunFeed } from "./run-feed.js";
import { statusOf } from "./stored-completion.js";

/** Who a stream is and how it is delivered; the same on every instance that serves it. */
export interface RunIdentity {
  streamId: string;
  /** `chatcmpl-<stream id>`: the same on every chunk. */
  id: string;
  created: number;
  model: string;
  capability: Capability;
  tenant: string;
  correlationId: string;
  /** The chat command's id. */
  commandId: string;
  delivery: ChatDelivery;
}

type Terminal = Extract<Delivery, { kind: "completed" | "failed" }>;

/**
 * One running chat on this gateway instance: its results (one feed, shared by every reader on
 * the instance), its readers, its deadline, its stream slot and its end. Surfaces (SSE,
 * WebSocket, MCP) never own this life-cycle: they read through a {@link RunReader} and call
 * {@link ChatRuns} to start, attach, cancel or leave.
 *
 * The run keeps the deliveries of the current attempt, so a reader attaching late on the same
 * instance is served from memory; a `reset` (the answer's attempt changed) starts a new
 * generation that readers notice.
 */
export class ChatRun {
  /** Deliveries of the current generation: deltas in seq order, then the terminal event. */
  deliveries: Delivery[] = [];
  /** Bumped by each `reset`. */
  generation = 0;
  /** A cancel command was written for this stream. */
  cancelRequested = false;
  /**
   * A reader was told the answer was interrupted and to read it whole from the status: the run
   * must then reach its end even with no reader left (like a background run).
   */
  runsToEnd = false;
  private feedRef: RunFeed | null = null;
  private terminalEvent: Terminal | null = null;
  private failure: Error | null = null;
  private closed = false;
  private readonly readers = new Set<RunReader>();
  private changed: Promise<void>;
  private signalChange!: () => void;
  private readonly disposers: (() => void)[] = [];

  constructor(
    readonly identity: RunIdentity,
    /**
     * Called when the last reader leaves, and when the run finishes with no reader (the
     * registry decides what that means).
     */
    private readonly onIdle: (run: ChatRun) => void,
  ) {
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
    return this.closed;
  }

  get readerCount(): number {
    return this.readers.size;
  }

  /** The feed the run reads; set once, closed with the run. */
  set feed(feed: RunFeed) {
    this.feedRef = feed;
  }

  get feed(): RunFeed | null {
    return this.feedRef;
  }

  /** The status the run's own view gives (see {@link StreamStatus}). */
  get status(): StreamStatus {
    return statusOf(this.terminalEvent, this.cancelRequested, this.deliveries.length);
  }

  /** Takes a batch from the feed. */
  accept(batch: Delivery[]): void {
    if (this.closed) return;
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
    if (this.terminalEvent && this.readers.size === 0) this.onIdle(this);
  }

  /** Makes every reader throw `err` (the deadline passed) and ends the run. */
  fail(err: Error): void {
    if (this.closed) return;
    this.failure = err;
    this.close();
  }

  /** A reader over the deliveries after the first `after` deltas. */
  read(after = 0): RunReader {
    const reader = new RunReader(this, after);
    this.readers.add(reader);
    return reader;
  }

  /** Runs `fn` when the run closes (timers, slots). */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.disposers.push(fn);
  }

  /** Stops the feed and ends every reader after what it has; safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.feedRef?.close();
    for (const fn of this.disposers.splice(0)) fn();
    this.notify();
  }

  /** @internal used by {@link RunReader}. */
  get error(): Error | null {
    return this.failure;
  }

  /** @internal resolves at the next change. */
  nextChange(): Promise<void> {
    return this.changed;
  }

  /** @internal */
  detach(reader: RunReader): void {
    if (this.readers.delete(reader) && this.readers.size === 0) this.onIdle(this);
  }

  /** True if a reader resuming after `n` chunks cannot have seen another attempt's text. */
  agreesUpTo(n: number): boolean {
    return this.generation === 0 && (this.feedRef?.agreesUpTo(n) ?? true);
  }

  private notify(): void {
    const signal = this.signalChange;
    this.changed = new Promise((r) => (this.signalChange = r));
    signal();
  }
}

/**
 * One reader's position in a run: batches of deliveries after its cursor, in order. When the
 * run's answer changes attempt, the reader yields `reset` once and starts over at seq 1; so
 * does a reader resuming after chunks that another attempt may have sent.
 */
export class RunReader {
  private generation: number;
  private index = 0;
  private checked: boolean;
  private left = false;

  constructor(
    readonly run: ChatRun,
    private after: number,
  ) {
    this.generation = run.generation;
    this.checked = after === 0;
  }

  /** The next deliveries, or `null` once the run has closed and everything was read. */
  async next(): Promise<Delivery[] | null> {
    for (;;) {
      const run = this.run;
      if (this.left) return null;
      if (this.generation !== run.generation) {
        this.generation = run.generation;
        return this.restart();
      }
      const list = run.deliveries;
      if (!this.checked && (run.finished || countDeltas(list) >= this.after)) {
        this.checked = true;
        if (!run.agreesUpTo(this.after)) return this.restart();
      }
      if (this.checked && this.index < list.length) {
        const batch = list
          .slice(this.index)
          .filter((d) => d.kind !== "delta" || d.seq > this.after);
        this.index = list.length;
        if (batch.length > 0) return batch;
      }
      if (run.error) throw run.error;
      if (run.isClosed) return null;
      await run.nextChange();
    }
  }

  /** Stops reading; the run learns it has one reader fewer. */
  leave(): void {
    if (this.left) return;
    this.left = true;
    this.run.detach(this);
  }

  private restart(): Delivery[] {
    this.index = 0;
    this.after = 0;
    this.checked = true;
    return [{ kind: "reset" }];
  }
}

function countDeltas(list: Delivery[]): number {
  const last = list.at(-1);
  return last?.kind === "delta" ? last.seq : Math.max(0, list.length - 1);
}
