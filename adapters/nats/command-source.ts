import type { ConsumerMessages, JetStreamClient, JsMsg } from "nats";
import type { ContextName, SubjectSpace } from "../../contracts/index.js";
import type { Log } from "../../src/log.js";
import type { CommandSource, DeliveredCommand } from "../../src/ports.js";

function toDelivered(m: JsMsg): DeliveredCommand {
  return {
    subject: m.subject,
    data: m.data,
    messageId: m.headers?.get("Nats-Msg-Id") || undefined,
    deliveryCount: m.info.deliveryCount,
    // A plain ack: effects are committed before it is sent, and if it is lost the redelivery
    // meets the processed inbox row and is acked then.
    ack: async () => m.ack(),
    nak: (delayMs) => m.nak(delayMs),
    working: () => m.working(),
  };
}

/**
 * A context's commands from the durable pull consumer shared by all its workers, handled at
 * most `maxInflight` at a time.
 */
export class JetStreamCommandSource implements CommandSource {
  private messages: ConsumerMessages | null = null;
  private readonly inflight = new Set<Promise<void>>();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly js: JetStreamClient,
    private readonly subjects: SubjectSpace,
    private readonly context: ContextName,
    private readonly opts: { batchSize: number; maxInflight: number },
    private readonly log: Log,
  ) {}

  async start(handle: (cmd: DeliveredCommand) => Promise<void>): Promise<void> {
    const consumer = await this.js.consumers.get(
      this.subjects.commandStream(this.context),
      this.subjects.workerDurable(this.context),
    );
    const messages = await consumer.consume({
      max_messages: Math.min(this.opts.batchSize, this.opts.maxInflight),
    });
    this.messages = messages;
    this.loop = (async () => {
      for await (const m of messages) {
        if (this.inflight.size >= this.opts.maxInflight) await Promise.race(this.inflight);
        const p = handle(toDelivered(m))
          .catch((err: unknown) => {
            // The processor could not record an outcome (database down): leave the message
            // unacked, so it is redelivered after a pause.
            this.log.error({ err, subject: m.subject }, "command handling failed; will redeliver");
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
  }
}
