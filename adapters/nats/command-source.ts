import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from "nats";
import { pullStatusAction } from "./pull-status.js";
import type { ContextName, SubjectSpace } from "../../contracts/index.js";
import type { Log } from "../../src/log.js";
import { sleep } from "../../src/sleep.js";
import type { CommandSource, DeliveredCommand } from "../../src/ports.js";

/**
 * How long one pull request waits on the server. Pull requests are not replicated: when a
 * cluster's consumer leader dies, the new leader does not know this worker is waiting. The
 * re-pull triggers (the leader-elected advisory, a reconnect) and the missed heartbeats below
 * replace a lost pull; a short expiry bounds the wait when all of them are missed.
 */
export const PULL_EXPIRES_MS = 4_000;

/**
 * How often the server holding a pull says it is still there while it has nothing to deliver.
 * Two missed in a row end the pull and start a new one (the library's default is half the
 * expiry, so a lost pull was noticed only after the whole expiry).
 */
export const PULL_HEARTBEAT_MS = 1_000;

/**
 * Something that says a new pull is needed at once (the consumer's leader changed, the
 * connection came back): it calls `repull` with the reason, and returns a function that stops it.
 */
export type RepullTrigger = (repull: (reason: string) => void) => () => void;

/** Settings of a context's command source. */
export interface CommandSourceOptions {
  batchSize: number;
  maxInflight: number;
  /** How often held messages tell the server they are being worked on (`+WPI`). */
  heartbeatMs: number;
  /** What, besides missed heartbeats, ends the pull and starts a new one. */
  repullTriggers?: RepullTrigger[];
}

/**
 * A context's commands from the durable pull consumer shared by all its workers, handled at
 * most `maxInflight` at a time. Every message this worker holds (queued here or running) is
 * kept alive with one timer sending progress acks, so the consumer's ack wait can be short:
 * a worker that dies stops them, and its messages are redelivered to another worker after one
 * ack wait instead of a long one.
 *
 * One pull (`consume()`) at a time; a re-pull stops it (what it already received is still
 * handled, and every held message settles through its own `JsMsg`, whichever pull brought it)
 * and starts the next at once. A message the old pull's server sent after it was stopped never
 * reaches the handler: the consumer redelivers it after the ack wait, so it is delayed, never
 * handled twice.
 */
export class JetStreamCommandSource implements CommandSource {
  private messages: ConsumerMessages | null = null;
  private readonly inflight = new Set<Promise<void>>();
  private readonly held = new Set<JsMsg>();
  private loop: Promise<void> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private stopping = false;
  private stopTriggers: (() => void)[] = [];
  private pullsStarted = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly subjects: SubjectSpace,
    private readonly context: ContextName,
    private readonly opts: CommandSourceOptions,
    private readonly log: Log,
  ) {}

  /** How many pulls were started (the first included): a re-pull adds one. */
  get pulls(): number {
    return this.pullsStarted;
  }

  async start(handle: (cmd: DeliveredCommand) => Promise<void>): Promise<void> {
    const consumer = await this.js.consumers.get(
      this.subjects.commandStream(this.context),
      this.subjects.workerDurable(this.context),
    );
    const first = await this.pull(consumer);
    this.heartbeat = setInterval(() => {
      for (const m of this.held) m.working();
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
    this.stopTriggers = (this.opts.repullTriggers ?? []).map((t) => t((r) => this.repull(r)));
    this.loop = this.run(consumer, first, handle);
  }

  /**
   * Ends the current pull and starts a new one now (`reason` is logged). Triggers that fire
   * before the new pull is sent make one re-pull; one that fires after it ends that pull too,
   * since it may have gone to a server that was no longer the leader (a new leader's advisory
   * arriving just after missed heartbeats made the source pull again).
   */
  repull(reason: string): void {
    const current = this.messages;
    if (this.stopping || !current) return;
    this.messages = null;
    this.log.info({ context: this.context, reason }, "re-pulling commands");
    current.stop();
  }

  /** Stops pulling and waits for the messages in hand to finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.stopTriggers) s();
    this.messages?.stop();
    await this.loop;
    await Promise.allSettled([...this.inflight]);
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  private async pull(consumer: Consumer): Promise<ConsumerMessages> {
    const messages = await consumer.consume({
      max_messages: Math.min(this.opts.batchSize, this.opts.maxInflight),
      expires: PULL_EXPIRES_MS,
      idle_heartbeat: PULL_HEARTBEAT_MS,
    });
    this.pullsStarted++;
    if (this.stopping)
      messages.stop(); // stop() came while this pull was being made
    else this.messages = messages;
    void this.watchStatus(messages);
    return messages;
  }

  /** Logs the pull's status events and re-pulls on those that say it is lost. */
  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    for await (const s of await messages.status()) {
      const action = pullStatusAction(s);
      this.log[action.level](
        { context: this.context, pull_status: s.type, data: s.data },
        "command pull status",
      );
      if (action.repull && this.messages === messages) this.repull(`pull status ${s.type}`);
    }
  }

  /** Takes messages from one pull after another until stopped. */
  private async run(
    consumer: Consumer,
    first: ConsumerMessages,
    handle: (cmd: DeliveredCommand) => Promise<void>,
  ): Promise<void> {
    let messages: ConsumerMessages | null = first;
    while (!this.stopping) {
      try {
        messages ??= await this.pull(consumer);
        for await (const m of messages) await this.take(m, handle);
        // The iterator ends when asked to (stop or re-pull) after yielding what it held. One that
        // ended on its own (the library gave up on the pull) is replaced after a pause, so a
        // pull that keeps ending at once cannot spin.
        if (this.messages === messages && !this.stopping) {
          this.log.warn({ context: this.context }, "command pull ended; pulling again");
          this.messages = null;
          await sleep(PULL_HEARTBEAT_MS);
        }
      } catch (err) {
        // A pull the library ended with an error (a refused request, a closed subscription):
        // start another after a pause rather than stop taking commands.
        this.log.warn({ err, context: this.context }, "command pull failed; pulling again");
        await sleep(PULL_HEARTBEAT_MS);
      }
      messages = null;
    }
  }

  /** Hands `m` to `handle` once fewer than `maxInflight` are running (the pull's back-pressure). */
  private async take(m: JsMsg, handle: (cmd: DeliveredCommand) => Promise<void>): Promise<void> {
    this.held.add(m);
    if (this.inflight.size >= this.opts.maxInflight) await Promise.race(this.inflight);
    const p = handle(this.toDelivered(m))
      .catch((err: unknown) => {
        // The processor could not record an outcome even after retrying (the database is
        // down for long): leave the message for redelivery after a pause.
        this.log.error({ err, subject: m.subject }, "command not settled; will redeliver");
        this.settled(m);
        m.nak(5_000);
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private settled(m: JsMsg): void {
    this.held.delete(m);
  }

  private toDelivered(m: JsMsg): DeliveredCommand {
    return {
      subject: m.subject,
      data: m.data,
      messageId: m.headers?.get("Nats-Msg-Id") || undefined,
      deliveryCount: m.info.deliveryCount,
      traceparent: m.headers?.get("traceparent") || undefined,
      // A plain ack: effects are committed before it is sent, and if it is lost the redelivery
      // meets the processed inbox row and is acked then.
      ack: async () => {
        this.settled(m);
        m.ack();
      },
      nak: (delayMs) => {
        this.settled(m);
        m.nak(delayMs);
      },
    };
  }
}
