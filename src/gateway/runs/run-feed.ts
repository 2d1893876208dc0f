import type { ContextName } from "../../../contracts/index.js";
import type { Log } from "../../log.js";
import type { ResultFeed, ResultSubscription } from "../../ports.js";
import { decodeResultEvents } from "./result-decoder.js";
import { AttemptSequencer, type Delivery } from "./attempt-sequencer.js";

/**
 * How long a known gap may stay open before it is filled from the stream. The stored copy is
 * usually there within a few hundred milliseconds (a batch window; a resend once NATS is back
 * after an outage), so a gap is checked this often for its first second, then less and less
 * often (doubling, to 2 s) while the stored stream cannot close it.
 */
const GAP_FILL_DELAY_MS = 250;
const GAP_FILL_STEADY_CHECKS = 4;
const GAP_FILL_MAX_MS = 2_000;
/**
 * First check of a quiet stream against the stored events; doubles while it stays quiet. On a
 * healthy connection nothing is lost (a reconnect triggers a fill of its own): the check is for
 * what only reaches the stored stream (a terminal event the relay published after its worker
 * died), so it can be rare, and must be for thousands of streams waiting on slow models.
 */
const IDLE_PROBE_MIN_MS = 5_000;
/**
 * Checks of the stored stream after a reconnect, besides the one at once (at 250, 750 and
 * 1,750 ms). What workers published live while NATS was away is lost, and their stored copies
 * arrive only once JetStream has restored its streams and the workers have sent them again:
 * without these checks a stream whose model finished during the outage would wait for its
 * terminal event (or the idle probe) to learn it has a gap.
 */
const RECONNECT_CHECKS = 3;
const IDLE_PROBE_MAX_MS = 60_000;

/**
 * One stream's results, in order, for one gateway instance: live from a core subscription on
 * the stream's live subject (opened before the command is written, so nothing is missed at the
 * start), with what live delivery lost filled from the stored stream (where workers persist
 * deltas in batches and the terminal event through the outbox). Core delivery is at most once (a reconnect can
 * drop messages), so a known gap is filled quickly, a reconnect triggers a fill, and a quiet
 * stream is checked now and then (less and less often while it stays quiet). Stored events are
 * read from a cursor: a check never re-reads what an earlier one read.
 */
export class RunFeed {
  private readonly sequencer = new AttemptSequencer();
  private subscription: ResultSubscription | null = null;
  private stopReconnects: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerIsShort = false;
  private idleProbeMs = IDLE_PROBE_MIN_MS;
  private gapFillMs = GAP_FILL_DELAY_MS;
  private gapChecks = 0;
  private reconnectChecks = 0;
  private lastEventAt = Date.now();
  private cursor = 1;
  private filling: Promise<void> | null = null;
  private closed = false;
  /** Deliveries made before anyone takes them (see {@link deliverTo}). */
  private early: Delivery[] | null = null;
  private sink: (deliveries: Delivery[]) => void;

  private constructor(
    private readonly feed: ResultFeed,
    private readonly context: ContextName,
    /** Where the results are stored (read on gaps and resumes). */
    readonly subject: string,
    private readonly log: Log,
    sink: ((deliveries: Delivery[]) => void) | undefined,
  ) {
    if (sink) this.sink = sink;
    else {
      const early: Delivery[] = (this.early = []);
      this.sink = (d) => early.push(...d);
    }
  }

  /**
   * Subscribes to a stream's results and hands each batch of deliverable events to `sink`, or
   * (without one) keeps them until {@link deliverTo} names who takes them: a feed is opened
   * before the command is written, so nothing is missed, and before the run that reads it
   * exists. `replayNow` also reads what is already stored (a resume); otherwise stored events
   * are read only when a gap, a reconnect or a quiet spell calls for it.
   */
  static async open(
    feed: ResultFeed,
    context: ContextName,
    subjects: { stored: string; live: string },
    log: Log,
    sink?: (deliveries: Delivery[]) => void,
    replayNow = false,
  ): Promise<RunFeed> {
    const f = new RunFeed(feed, context, subjects.stored, log, sink);
    f.subscription = await feed.subscribe(
      subjects.live,
      (m) => f.accept(m.data),
      () => f.catchUp(),
    );
    f.stopReconnects = feed.onReconnect(() => f.catchUp());
    if (replayNow) await f.fill();
    else f.schedule();
    return f;
  }

  /** From now on deliveries go to `sink`, starting with those kept since the feed opened. */
  deliverTo(sink: (deliveries: Delivery[]) => void): void {
    const early = this.early;
    this.early = null;
    this.sink = sink;
    if (early && early.length > 0) sink(early);
  }

  /** True once the terminal event has been delivered. */
  get finished(): boolean {
    return this.sequencer.done;
  }

  /** See {@link AttemptSequencer.agreesUpTo}. */
  agreesUpTo(n: number): boolean {
    return this.sequencer.agreesUpTo(n);
  }

  /** Reads the stored stream now (e.g. a request attaching to an existing stream). */
  fill(): Promise<void> {
    this.filling ??= this.readStored().finally(() => {
      this.filling = null;
      this.schedule();
    });
    return this.filling;
  }

  /** Stops listening; safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.stopReconnects?.();
    this.subscription?.close();
  }

  private accept(data: Uint8Array): void {
    const events = decodeResultEvents(data);
    if (events === null) {
      this.log.warn({ subject: this.subject }, "ignored a malformed result event");
      return;
    }
    if (events.length === 1) return this.deliver(this.sequencer.push(events[0]!));
    const out: Delivery[] = [];
    for (const e of events) out.push(...this.sequencer.push(e));
    this.deliver(out);
  }

  private deliver(deliveries: Delivery[]): void {
    if (this.closed) return;
    if (deliveries.length > 0) {
      this.lastEventAt = Date.now();
      this.idleProbeMs = IDLE_PROBE_MIN_MS;
      this.gapFillMs = GAP_FILL_DELAY_MS;
      this.gapChecks = 0;
      this.sink(deliveries);
    }
    if (this.sequencer.done) return this.close();
    // A newly known gap shortens the wait; events alone never touch the timer (no churn per
    // delta on the hot path): the idle check re-arms itself while events keep coming.
    if (this.sequencer.hasGap && !this.timerIsShort) this.schedule();
  }

  /**
   * Live messages may have been missed: the connection is back, an event stream has a new
   * leader (see ResultFeed.onReconnect), or this process's worker stopped producing on the
   * subject (see ResultFeed.subscribe). What could not be stored meanwhile lands in the next
   * moments, so the stored stream is read now and a few times more, and a known gap whose checks
   * had backed off (to 2 s while nothing could close it) is checked at the short cadence again.
   */
  private catchUp(): void {
    this.reconnectChecks = RECONNECT_CHECKS;
    this.gapFillMs = GAP_FILL_DELAY_MS;
    this.gapChecks = 0;
    void this.fill();
  }

  /**
   * Arms the one timer: short while a gap is known or a reconnect is recent, else for the rest
   * of the idle period.
   */
  private schedule(): void {
    if (this.closed || this.filling) return;
    if (this.timer) clearTimeout(this.timer);
    const short = this.sequencer.hasGap
      ? this.gapFillMs
      : this.reconnectChecks > 0
        ? GAP_FILL_DELAY_MS * 2 ** (RECONNECT_CHECKS - this.reconnectChecks)
        : null;
    this.timerIsShort = short !== null;
    const idleLeft = this.lastEventAt + this.idleProbeMs - Date.now();
    this.timer = setTimeout(() => this.onTimer(), short ?? Math.max(0, idleLeft));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = null;
    const quietFor = Date.now() - this.lastEventAt;
    if (this.sequencer.hasGap) {
      // A gap the stored stream cannot close yet (a retry still catching up) is checked less
      // and less often; any progress resets the delay.
      if (++this.gapChecks >= GAP_FILL_STEADY_CHECKS) {
        this.gapFillMs = Math.min(GAP_FILL_MAX_MS, this.gapFillMs * 2);
      }
      void this.fill();
    } else if (this.reconnectChecks > 0) {
      this.reconnectChecks--;
      void this.fill();
    } else if (quietFor >= this.idleProbeMs) {
      this.idleProbeMs = Math.min(IDLE_PROBE_MAX_MS, this.idleProbeMs * 2);
      void this.fill();
    } else this.schedule();
  }

  private async readStored(): Promise<void> {
    if (this.closed) return;
    try {
      const stored = await this.feed.replay(this.context, this.subject, this.cursor);
      this.cursor = stored.nextSeq;
      this.log.debug(
        { subject: this.subject, stored: stored.messages.length },
        "checked stored results",
      );
      const out: Delivery[] = [];
      for (const m of stored.messages) {
        for (const e of decodeResultEvents(m.data) ?? []) out.push(...this.sequencer.push(e));
      }
      this.deliver(out);
    } catch (err) {
      this.log.warn({ err, subject: this.subject }, "reading stored results failed; will retry");
    }
  }
}
