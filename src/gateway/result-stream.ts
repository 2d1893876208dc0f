import type { Log } from "../log.js";
import type { ChatResultEvent, ContextName } from "../../contracts/index.js";
import { AsyncQueue } from "../async-queue.js";
import type { ResultFeed, ResultSubscription } from "../ports.js";
import { decodeResultEvent } from "./result-decoder.js";
import { ResultSequencer } from "./result-sequencer.js";

/** How long a known gap may stay open before it is filled from the stream. */
const GAP_FILL_DELAY_MS = 250;
/** How long a quiet stream waits before checking the stream for events it may have missed. */
const IDLE_PROBE_MS = 2_000;

/**
 * One request's results, in order, ending with its terminal event: live from a core
 * subscription opened before the command is written, with gaps filled from the JetStream stream.
 * Core delivery is at most once (a reconnect or a slow consumer can drop messages), so a known
 * gap is filled quickly and a quiet stream is checked against the stored events now and then.
 */
export class ResultStream implements AsyncIterable<ChatResultEvent> {
  private readonly queue = new AsyncQueue<ChatResultEvent>();
  private readonly sequencer = new ResultSequencer();
  private subscription: ResultSubscription | null = null;
  /** The one timer: a gap fill (short) or an idle check (long). */
  private timer: NodeJS.Timeout | null = null;
  private timerIsShort = false;
  private lastEventAt = Date.now();
  private filling = false;
  private closed = false;

  private constructor(
    private readonly feed: ResultFeed,
    private readonly context: ContextName,
    readonly subject: string,
    private readonly log: Log,
  ) {}

  /**
   * Subscribes to the request's results. `replayNow` also reads what is already stored (a
   * resume); otherwise stored events are read only when a gap or a quiet spell calls for it.
   */
  static async open(
    feed: ResultFeed,
    context: ContextName,
    subject: string,
    log: Log,
    replayNow = false,
  ): Promise<ResultStream> {
    const stream = new ResultStream(feed, context, subject, log);
    stream.subscription = await feed.subscribe(subject, (m) => stream.accept(m.data));
    if (replayNow) void stream.fill();
    else stream.schedule();
    return stream;
  }

  [Symbol.asyncIterator](): AsyncIterator<ChatResultEvent> {
    return this.queue;
  }

  /** True once the terminal event has been received. */
  get finished(): boolean {
    return this.sequencer.done;
  }

  /** Events already received and in order, beyond the one being read. */
  takeQueued(): ChatResultEvent[] {
    return this.queue.takeQueued();
  }

  /** Stops listening and makes the reader throw `err` (e.g. the request's deadline passed). */
  fail(err: Error): void {
    if (this.closed) return;
    this.queue.fail(err);
    this.close();
  }

  /** Stops listening; safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.subscription?.close();
    this.queue.end();
  }

  private accept(data: Uint8Array): void {
    const event = decodeResultEvent(data);
    if (event === null) {
      this.log.warn({ subject: this.subject }, "ignored a malformed result event");
      return;
    }
    this.deliver(this.sequencer.push(event));
  }

  private deliver(events: ChatResultEvent[]): void {
    if (this.closed) return;
    for (const e of events) this.queue.push(e);
    if (this.sequencer.done) {
      this.close();
      return;
    }
    if (events.length > 0) this.lastEventAt = Date.now();
    // A newly known gap shortens the wait; events alone never touch the timer (no churn per
    // delta on the hot path): the idle check re-arms itself while events keep coming.
    if (this.sequencer.hasGap && !this.timerIsShort) this.schedule();
  }

  /** Arms the timer: short while a gap is known, else for the rest of the idle period. */
  private schedule(): void {
    if (this.closed || this.filling) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerIsShort = this.sequencer.hasGap;
    const idleLeft = this.lastEventAt + IDLE_PROBE_MS - Date.now();
    this.timer = setTimeout(() => this.onTimer(), this.timerIsShort ? GAP_FILL_DELAY_MS : idleLeft);
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = null;
    const quiet = Date.now() - this.lastEventAt >= IDLE_PROBE_MS;
    if (this.sequencer.hasGap || quiet) void this.fill();
    else this.schedule();
  }

  private async fill(): Promise<void> {
    if (this.closed) return;
    this.filling = true;
    try {
      const stored = await this.feed.replay(this.context, this.subject);
      this.log.debug({ subject: this.subject, stored: stored.length }, "checked stored results");
      for (const m of stored) {
        const e = decodeResultEvent(m.data);
        if (e) this.deliver(this.sequencer.push(e));
      }
    } catch (err) {
      this.log.warn({ err, subject: this.subject }, "reading stored results failed; will retry");
    } finally {
      this.filling = false;
    }
    // Checked just now: the next idle check is a full period away.
    this.lastEventAt = Date.now();
    this.schedule();
  }
}
