import type { ContextName } from "../../contracts/index.js";
import type { Log } from "../log.js";
import { MicroBatcher } from "../micro-batcher.js";
import { metrics } from "../observability/metrics.js";
import type { CommandSource, DeliveredCommand } from "../ports.js";

/** A committed command, as the process that wrote it hands it to its own worker. */
export interface HandedCommand {
  subject: string;
  /** The bytes JetStream would carry for it (the envelope as JSON). */
  data: Uint8Array;
  /** The outbox row id: `Nats-Msg-Id` and inbox key. */
  messageId: string;
  traceparent?: string | undefined;
}

/** The outbox rows of handed-off commands, as the handoff keeps them. */
export interface HandoffOutbox {
  /** The rows are due for the relay `ms` from now (unless published first). */
  postpone(context: ContextName, ids: string[], ms: number): Promise<void>;
  /** The rows need no publishing any more (their commands were run and settled here). */
  markPublished(context: ContextName, ids: string[]): Promise<void>;
}

/** Settings of a context's handoff. */
export interface HandoffOptions {
  /** Commands running here at most (handed off or pulled); past it, JetStream delivers. */
  maxInflight: number;
  /** The inbox lease of a running command: its outbox row is kept due no sooner. */
  leaseMs: number;
  /** How long a fresh outbox row is left to its writer before relays publish it. */
  dispatchGraceMs: number;
}

/**
 * How long, past its retry time, a handed-off command that asked for a retry is remembered (its
 * later deliveries count the local run). Backoffs reach 30 s; twenty of them take ten minutes.
 */
const RETRY_MEMORY_MS = 10 * 60_000;

/** Below this dispatch grace there is no time to keep a fresh row from the relays: no handoff. */
export const MIN_HANDOFF_GRACE_MS = 100;

/**
 * Hands a committed command straight to this process's worker (`sea-gateway up`): it starts
 * without being published, stored and delivered by JetStream first.
 *
 * The command's outbox row is its durable copy instead. The row stays unpublished while the
 * run goes on, and its next attempt is kept at least a lease ahead (renewed more often than the
 * dispatch grace and the lease run out), so no relay publishes it. When the run settles, the
 * row is marked published if the command is done (ack), or made due at the retry time (nak):
 * the relay publishes it then and JetStream delivers the retry like any other. If this process
 * dies, the renewals stop, the lease and the row's next attempt run out together, and a relay
 * publishes the row to whichever worker takes it: the inbox claim finds the lease expired and
 * runs it again, as after a worker's crash. The local run itself is an ordinary first delivery
 * (inbox claim, lease, attempt number, settlement).
 */
export class LocalCommandHandoff {
  private readonly running = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  /** Commands running here, handed off or pulled: together at most `maxInflight`. */
  private active = 0;
  /** Pulled commands waiting for room (the source keeps them alive meanwhile). */
  private readonly waiting: (() => void)[] = [];
  private handle: ((cmd: DeliveredCommand) => Promise<void>) | null = null;
  private stopped = false;
  private renewTimer: NodeJS.Timeout | null = null;
  /** Marks of one turn, one statement (as the outbox writer batches its inserts). */
  private readonly marks: MicroBatcher<string, undefined>;
  /** Handed-off commands that asked for a retry: their later deliveries count the local one. */
  private readonly retried = new Map<string, number>();
  /** How often the rows of running commands are pushed ahead. */
  private readonly renewMs: number;
  /** False below {@link MIN_HANDOFF_GRACE_MS}: no time to keep a fresh row from the relays. */
  private readonly enabled: boolean;

  constructor(
    private readonly context: ContextName,
    private readonly opts: HandoffOptions,
    private readonly outbox: HandoffOutbox,
    private readonly log: Log,
  ) {
    this.renewMs = Math.max(10, Math.floor(Math.min(opts.leaseMs / 3, opts.dispatchGraceMs / 2)));
    this.enabled = opts.dispatchGraceMs >= MIN_HANDOFF_GRACE_MS;
    this.marks = new MicroBatcher(async (ids) => {
      await outbox.markPublished(context, ids);
      return ids.map(() => undefined);
    });
  }

  /** `inner`, also running what is handed off, and stopping only once those have settled. */
  source(inner: CommandSource): CommandSource {
    return {
      start: (handle) => {
        this.handle = handle;
        return inner.start((cmd) => this.pulled(this.counted(cmd), handle));
      },
      stop: async () => {
        this.stopped = true;
        await Promise.allSettled([...this.inflight]);
        await inner.stop();
        this.stopRenewing();
      },
    };
  }

  /** Runs `cmd` here now if the worker has started and has room; false: publish it as usual. */
  hand(cmd: HandedCommand): boolean {
    const handle = this.handle;
    if (!handle || this.stopped || !this.enabled) return false;
    if (this.active >= this.opts.maxInflight || this.running.has(cmd.messageId)) return false;
    const id = cmd.messageId;
    this.running.add(id);
    this.renewSoon();
    let settled = false;
    const settle = (retryInMs: number | null) => {
      if (settled) return;
      settled = true;
      this.running.delete(id);
      if (retryInMs === null) {
        this.marks.submit(id).catch((err: unknown) =>
          // Harmless: the relay publishes it and the inbox answers "processed".
          this.log.warn({ err, message_id: id }, "could not mark a handed-off command"),
        );
        return;
      }
      this.rememberRetry(id, retryInMs);
      this.outbox.postpone(this.context, [id], retryInMs).catch((err: unknown) =>
        // The row comes due at the last time it was pushed to (a lease ahead at most).
        this.log.warn({ err, message_id: id }, "could not set a handed-off command's retry"),
      );
    };
    const delivered: DeliveredCommand = {
      subject: cmd.subject,
      data: cmd.data,
      messageId: id,
      deliveryCount: 1,
      traceparent: cmd.traceparent,
      ack: () => {
        settle(null);
        return Promise.resolve();
      },
      nak: (delayMs) => settle(delayMs),
    };
    metrics.commandHandedOff(this.context);
    this.active++;
    const p = handle(delivered)
      .catch((err: unknown) => {
        // As the source does for a command it could not settle: it is retried later.
        this.log.error({ err, message_id: id }, "handed-off command not settled; retried later");
        settle(5_000);
      })
      .finally(() => {
        this.inflight.delete(p);
        this.release();
      });
    this.inflight.add(p);
    return true;
  }

  /**
   * Runs a command JetStream delivered once the commands running here leave room: the source
   * bounds its own deliveries by `maxInflight`, and handed-off runs count against the same
   * bound, so the two never run more than that together.
   */
  private async pulled(
    cmd: DeliveredCommand,
    handle: (cmd: DeliveredCommand) => Promise<void>,
  ): Promise<void> {
    while (this.active >= this.opts.maxInflight) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.active++;
    try {
      await handle(cmd);
    } finally {
      this.release();
    }
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }

  /**
   * A delivery of a command that was handed off here and asked for a retry: JetStream counts
   * from 1 again, so the local run is added (the handler's `attempt` and MAX_DELIVER go on
   * counting). A retry delivered to another instance counts from 1 there.
   */
  private counted(cmd: DeliveredCommand): DeliveredCommand {
    const entry = cmd.messageId === undefined ? undefined : this.retried.get(cmd.messageId);
    if (entry === undefined) return cmd;
    return { ...cmd, deliveryCount: cmd.deliveryCount + 1 };
  }

  private rememberRetry(id: string, retryInMs: number): void {
    const now = Date.now();
    // Rare (a handed-off run that failed transiently); expired entries go as new ones come.
    for (const [key, until] of this.retried) if (until < now) this.retried.delete(key);
    this.retried.set(id, now + retryInMs + RETRY_MEMORY_MS);
  }

  /** Keeps the rows of the commands running here a lease ahead, on one timer for all. */
  private renewSoon(): void {
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => {
      if (this.running.size === 0) return this.stopRenewing();
      this.outbox
        .postpone(this.context, [...this.running], this.opts.leaseMs)
        .catch((err: unknown) =>
          this.log.warn({ err }, "could not keep handed-off commands from the relay"),
        );
    }, this.renewMs);
    this.renewTimer.unref();
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
  }
}
