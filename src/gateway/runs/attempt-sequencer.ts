import type { ChatDeltaPayload, ChatResultEvent } from "../../../contracts/index.js";

/** What a stream's readers receive, in order. */
export type Delivery =
  | { kind: "delta"; seq: number; payload: ChatDeltaPayload }
  /**
   * Everything delivered so far came from an attempt that will not be the answer (its worker
   * died and the retry answered differently): readers drop it; deltas start again at seq 1.
   */
  | { kind: "reset" }
  | Extract<ChatResultEvent, { kind: "completed" | "failed" }>;

/** A stream's terminal event: its whole answer, or why it has none. */
export type Terminal = Extract<ChatResultEvent, { kind: "completed" | "failed" }>;

/** Two deltas are the same when they serialise the same (both come from one JSON codec). */
const sameDelta = (a: ChatDeltaPayload, b: ChatDeltaPayload) =>
  a === b || JSON.stringify(a) === JSON.stringify(b);

/**
 * Puts one stream's result events in order and never mixes two attempts.
 *
 * Each attempt (one inbox claim of the command) numbers its deltas 1..n and ends, if it wins,
 * with the terminal event at n+1; exactly one attempt writes a terminal event. Events arrive
 * live (at most once, possibly repeated) and from the stored stream (gap fills, resumes), from
 * any attempt, in any order. The sequencer delivers one attempt at a time: the one that wrote
 * the terminal event if known, else the newest seen. When it moves to another attempt after
 * delivering k deltas, it waits for that attempt's first k deltas: if they are the same, it
 * goes on seamlessly from k+1 (a deterministic handler, or a retry of the same text); if they
 * differ, it delivers a `reset` and starts the new attempt from 1. Repeats are dropped; a known
 * gap is reported through {@link hasGap} so the caller can read the stored stream.
 */
export class AttemptSequencer {
  /** Undelivered deltas by attempt, then seq. */
  private readonly buffered = new Map<number, Map<number, ChatDeltaPayload>>();
  /**
   * The delivered deltas of the current attempt (compared with another attempt's only when the
   * attempt changes: kept as they are, not serialised per delta).
   */
  private readonly delivered: ChatDeltaPayload[] = [];
  private current = 0;
  private newest = 0;
  private terminal: Terminal | null = null;
  private finished = false;
  private hadReset = false;

  /** Accepts one event; returns what is now deliverable, in order. */
  push(event: ChatResultEvent): Delivery[] {
    if (this.finished) return [];
    if (event.kind === "delta") this.buffer(event.attempt, event.seq, event.payload);
    else this.terminal ??= event;
    if (event.attempt > this.newest) this.newest = event.attempt;
    return this.advance();
  }

  /** True when something known to exist has not been delivered yet. */
  get hasGap(): boolean {
    if (this.finished) return false;
    return (
      this.terminal !== null ||
      this.target() !== this.current ||
      (this.buffered.get(this.current)?.size ?? 0) > 0
    );
  }

  get done(): boolean {
    return this.finished;
  }

  /** Deltas delivered in the current attempt. */
  get deliveredCount(): number {
    return this.delivered.length;
  }

  /**
   * True if no other attempt is known to have sent different deltas among the first `n`
   * delivered: a reader that resumes after `n` chunks cannot hold another attempt's text.
   */
  agreesUpTo(n: number): boolean {
    if (n === 0) return true;
    // After a reset the reader may hold either attempt's text: it cannot be continued.
    if (this.hadReset) return false;
    const upTo = Math.min(n, this.delivered.length);
    for (const [attempt, byseq] of this.buffered) {
      if (attempt === this.current) continue;
      for (const [seq, d] of byseq) {
        if (seq <= upTo && !sameDelta(d, this.delivered[seq - 1]!)) return false;
      }
    }
    return true;
  }

  private buffer(attempt: number, seq: number, payload: ChatDeltaPayload): void {
    if (attempt === this.current && seq <= this.delivered.length) return;
    let byseq = this.buffered.get(attempt);
    if (!byseq) this.buffered.set(attempt, (byseq = new Map()));
    if (!byseq.has(seq)) byseq.set(seq, payload);
  }

  /** The attempt that will be the answer, as far as is known now. */
  private target(): number {
    return this.terminal?.attempt ?? this.newest;
  }

  private advance(): Delivery[] {
    const out: Delivery[] = [];
    const target = this.target();
    if (target !== this.current && !this.switchTo(target, out)) return out;
    const own = this.buffered.get(this.current);
    for (let next = own?.get(this.delivered.length + 1); next;) {
      const seq = this.delivered.length + 1;
      own!.delete(seq);
      this.delivered.push(next);
      out.push({ kind: "delta", seq, payload: next });
      next = own!.get(seq + 1);
    }
    // An emptied map keeps its grown table: dropped, an in-order stream holds none between
    // deltas (buffer() makes a new one when a delta comes out of order).
    if (own?.size === 0) this.buffered.delete(this.current);
    const t = this.terminal;
    if (t && t.attempt === this.current && t.seq <= this.delivered.length + 1) {
      out.push(t);
      this.finished = true;
      // Other attempts' deltas stay: agreesUpTo() still needs them.
      this.buffered.delete(this.current);
    }
    return out;
  }

  /**
   * Makes `target` the current attempt if its first k deltas are known (k = delivered so far);
   * returns false while they are not. A reset goes to `out` when they differ.
   */
  private switchTo(target: number, out: Delivery[]): boolean {
    const k = this.delivered.length;
    const theirs = this.buffered.get(target) ?? new Map<number, ChatDeltaPayload>();
    const t = this.terminal?.attempt === target ? this.terminal : null;
    // How many of the target's deltas must match what was delivered: all k, unless the target
    // ended with fewer. A failure after fewer deltas just ends the stream (nothing to splice if
    // those agree); a completed answer with fewer deltas cannot continue what was sent.
    let compare = k;
    let same = true;
    if (t && t.seq - 1 < k) {
      if (t.kind === "failed") compare = t.seq - 1;
      else same = false;
    }
    for (let seq = 1; same && seq <= compare; seq++) {
      const d = theirs.get(seq);
      if (d === undefined) return false;
      same = sameDelta(d, this.delivered[seq - 1]!);
    }
    if (same) {
      for (let seq = 1; seq <= compare; seq++) theirs.delete(seq);
    } else {
      this.delivered.length = 0;
      this.hadReset = true;
      out.push({ kind: "reset" });
    }
    // The attempt left behind keeps its buffer: it may still turn out to be the answer.
    this.current = target;
    return true;
  }
}
