import type { Log } from "../log.js";
import type { ChatResultEvent, ContextName } from "../../contracts/index.js";
import { AsyncQueue } from "../async-queue.js";
import type { ResultFeed, ResultSubscription } from "../ports.js";
import { decodeResultEvent } from "./result-decoder.js";
import { ResultSequencer } from "./result-sequencer.js";

/** How long a gap may stay open before it is filled from the stream. */
const GAP_FILL_DELAY_MS = 250;

/**
 * One request's results, in order, ending with its terminal event: live from a core
 * subscription opened before the command is written, with gaps filled from the JetStream stream.
 */
export class ResultStream implements AsyncIterable<ChatResultEvent> {
  private readonly queue = new AsyncQueue<ChatResultEvent>();
  private readonly sequencer = new ResultSequencer();
  private subscription: ResultSubscription | null = null;
  private gapTimer: NodeJS.Timeout | null = null;
  private filling = false;
  private closed = false;

  private constructor(
    private readonly feed: ResultFeed,
    private readonly context: ContextName,
    readonly subject: string,
    private readonly log: Log,
  ) {}

  /** Subscribes and resolves once the server holds the interest. */
  static async open(
    feed: ResultFeed,
    context: ContextName,
    subject: string,
    log: Log,
  ): Promise<ResultStream> {
    const stream = new ResultStream(feed, context, subject, log);
    stream.subscription = await feed.subscribe(subject, (m) => stream.accept(m.data));
    return stream;
  }

  [Symbol.asyncIterator](): AsyncIterator<ChatResultEvent> {
    return this.queue;
  }

  /** Stops listening; safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
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
    if (this.sequencer.hasGap && !this.gapTimer && !this.filling) {
      this.gapTimer = setTimeout(() => void this.fillGap(), GAP_FILL_DELAY_MS);
    }
  }

  private async fillGap(): Promise<void> {
    this.gapTimer = null;
    if (this.closed || !this.sequencer.hasGap) return;
    this.filling = true;
    try {
      const stored = await this.feed.replay(this.context, this.subject);
      this.log.debug({ subject: this.subject, stored: stored.length }, "filled a result gap");
      for (const m of stored) {
        const e = decodeResultEvent(m.data);
        if (e) this.deliver(this.sequencer.push(e));
      }
    } catch (err) {
      this.log.warn({ err, subject: this.subject }, "result gap fill failed; will retry");
    } finally {
      this.filling = false;
    }
    // Still missing (e.g. the event is not stored yet): look again later.
    if (!this.closed && this.sequencer.hasGap && !this.gapTimer) {
      this.gapTimer = setTimeout(() => void this.fillGap(), GAP_FILL_DELAY_MS * 4);
    }
  }
}
