import type { ConsumerMessages, JetStreamClient, JsMsg } from "nats";
import type { ContextName, SubjectSpace } from "../../contracts/index.js";
import type { Log } from "../../src/log.js";
import type { CommandSource, DeliveredCommand } from "../../src/ports.js";

/**
 * How long one pull request waits on the server. Pull requests are not replicated: when a
 * cluster's consumer leader dies, the new leader does not know this worker is waiting, and
 * the client notices only after two missed idle heartbeats (half the expiry each). With the
 * library's 30 s default, a worker sat idle for 30 to 45 s after a leader change while
 * commands queued (chaos suite, 3-node cluster); a short expiry re-pulls within seconds.
 */
export const PULL_EXPIRES_MS = 4_000;

/** Settings of a context's command source. */
export interface CommandSourceOptions {
  batchSize: number;
  maxInflight: number;
  /** How often held messages tell the server they are being worked on (`+WPI`). */
  heartbeatMs: number;
}

/**
 * A context's commands from the durable pull consumer shared by all its workers, handled at
 * most `maxInflight` at a time. Every message this worker holds (queued here or running) is
 * kept alive with one timer sending progress acks, so the consumer's ack wait can be short:
 * a worker that dies stops them, and its messages are redelivered to another worker after one
 * ack wait instead of a long one.
 */
export class JetStreamCommandSource implements CommandSource {
  private messages: ConsumerMessages | null = null;
  private readonly inflight = new Set<Promise<void>>();
  private readonly held = new Set<JsMsg>();
  private loop: Promise<void> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly js: JetStreamClient,
    private readonly subjects: SubjectSpace,
    private readonly context: ContextName,
    private readonly opts: CommandSourceOptions,
    private readonly log: Log,
  ) {}

  async start(handle: (cmd: DeliveredCommand) => Promise<void>): Promise<void> {
    const consumer = await this.js.consumers.get(
      this.subjects.commandStream(this.context),
      this.subjects.workerDurable(this.context),
    );
    const messages = await consumer.consume({
      max_messages: Math.min(this.opts.batchSize, this.opts.maxInflight),
      expires: PULL_EXPIRES_MS,
    });
    this.messages = messages;
    this.heartbeat = setInterval(() => {
      for (const m of this.held) m.working();
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
    this.loop = (async () => {
      for await (const m of messages) {
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
    })();
  }

  /** Stops pulling and waits for the messages in hand to finish. */
  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
    await Promise.allSettled([...this.inflight]);
    if (this.heartbeat) clearInterval(this.heartbeat);
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
