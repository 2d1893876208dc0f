import type { StreamStatus } from "../../../contracts/index.js";
import type { Delivery } from "./attempt-sequencer.js";
import type { RunIdentity } from "./run-identity.js";

/**
 * What a reader sees of its run (implemented by {@link ChatRun}; an interface so the reader does
 * not depend on the class that creates it).
 */
export interface ReadableRun {
  readonly identity: RunIdentity;
  readonly streamId: string;
  readonly status: StreamStatus;
  readonly background: boolean;
  /** Deliveries of the current generation: deltas in seq order, then the terminal event. */
  readonly deliveries: readonly Delivery[];
  /** Bumped by each `reset`. */
  readonly generation: number;
  readonly finished: boolean;
  readonly isClosed: boolean;
  /** Set when the run was ended with an error for its readers (the deadline passed). */
  readonly error: Error | null;
  /** Resolves at the next change. */
  nextChange(): Promise<void>;
  /** True if a reader resuming after `n` chunks cannot have seen another attempt's text. */
  agreesUpTo(n: number): boolean;
  /**
   * A reader was told the answer was interrupted and to read it whole from the status: the run
   * must then reach its end even with no reader left (like a background run).
   */
  keepToEnd(): void;
  /** The reader stops reading. */
  detach(reader: RunReader): void;
}

/**
 * One reader's position in a run: batches of deliveries after its cursor, in order.
 *
 * Resume rules: a reader starting after `after` chunks gets the deltas with a larger seq, then
 * the terminal event. When the run's answer changes attempt, the reader yields `reset` once and
 * starts over at seq 1; so does a reader resuming after chunks that another attempt may have
 * sent (it cannot tell which attempt its client saw).
 */
export class RunReader {
  private generation: number;
  private index = 0;
  private checked: boolean;
  private left = false;

  constructor(
    readonly run: ReadableRun,
    private after: number,
  ) {
    this.generation = run.generation;
    this.checked = after === 0;
  }

  /** The next deliveries, or `null` once the run has closed and everything was read. */
  next(): Promise<Delivery[] | null> {
    // Not an async function: a reader waits for most of its stream's life, and a suspended
    // async function keeps its frame (generator, registers, context) for every idle stream.
    let ready: Delivery[] | null | undefined;
    try {
      ready = this.poll();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (ready !== undefined) return Promise.resolve(ready);
    return this.run.nextChange().then(() => this.next());
  }

  /** What is there to read now: a batch, `null` at the end, `undefined` to wait for a change. */
  private poll(): Delivery[] | null | undefined {
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
      const batch = list.slice(this.index).filter((d) => d.kind !== "delta" || d.seq > this.after);
      this.index = list.length;
      if (batch.length > 0) return batch;
    }
    if (run.error) throw run.error;
    if (run.isClosed) return null;
    return undefined;
  }

  /** True once {@link leave} was called (its client left). */
  get hasLeft(): boolean {
    return this.left;
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

function countDeltas(list: readonly Delivery[]): number {
  const last = list.at(-1);
  return last?.kind === "delta" ? last.seq : Math.max(0, list.length - 1);
}
