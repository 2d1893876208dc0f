import type { ChatResultEvent } from "../../contracts/index.js";

/**
 * Puts one request's result events back in `seq` order.
 *
 * Deltas are numbered 1..n and the terminal event (`completed` or `failed`) carries n+1. Live
 * delivery can repeat a delta (a redelivered command re-emits the same seqs; JetStream drops the
 * duplicate publish only inside its window) or skip one (a core subscription is at-most-once);
 * the sequencer drops repeats and reports gaps so the caller can fill them from the stream.
 * A terminal event is never dropped: a retried attempt may end with a lower seq than deltas
 * already delivered.
 */
export class ResultSequencer {
  private nextSeq = 1;
  private readonly pending = new Map<number, ChatResultEvent>();
  private terminal: ChatResultEvent | null = null;
  private finished = false;

  /** Accepts one event; returns the events now deliverable, in order. */
  push(event: ChatResultEvent): ChatResultEvent[] {
    if (this.finished) return [];
    if (event.kind !== "delta") {
      this.terminal ??= event;
    } else if (event.seq >= this.nextSeq && !this.pending.has(event.seq)) {
      this.pending.set(event.seq, event);
    }
    const ready: ChatResultEvent[] = [];
    for (let e = this.pending.get(this.nextSeq); e; e = this.pending.get(this.nextSeq)) {
      this.pending.delete(this.nextSeq);
      ready.push(e);
      this.nextSeq++;
    }
    if (this.terminal && this.terminal.seq <= this.nextSeq) {
      ready.push(this.terminal);
      this.finished = true;
      this.pending.clear();
    }
    return ready;
  }

  /** True when an event is known to be missing (a later seq or the terminal event is waiting). */
  get hasGap(): boolean {
    return !this.finished && (this.pending.size > 0 || this.terminal !== null);
  }

  get done(): boolean {
    return this.finished;
  }
}
