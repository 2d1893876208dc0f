import type { ContextName } from "../../contracts/index.js";
import type { Log } from "../log.js";
import type { ConsumerState, ContextSources } from "./backlog.js";
import { metrics } from "./metrics.js";

/**
 * Sets the gauges read from Postgres and JetStream on a timer, never per scrape: a scrape (or
 * ten Prometheus replicas scraping) costs no query. Each source is at most one query per
 * context per round, and never two at once: a slow one skips rounds instead of piling up (so a
 * NATS outage does not hold back the database gauges). A failed sample leaves its gauge at the
 * last value (and logs at debug).
 */
export class GaugeSampler {
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly consumers = new Map<ContextName, ConsumerState | null>();

  constructor(
    private readonly sources: ContextSources[],
    private readonly everyMs: number,
    private readonly log: Log,
    /** Called after each round's database samples (the status page's time series). */
    private readonly onRound: () => Promise<void> = async () => undefined,
  ) {}

  /** Samples now, then every `everyMs`. */
  start(): void {
    if (this.timer) return;
    void this.round();
    this.timer = setInterval(() => void this.round(), this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.inFlight.values());
  }

  /** The last consumer states read (for the status page), by context. */
  consumerStates(): Map<ContextName, ConsumerState | null> {
    return new Map(this.consumers);
  }

  /** Starts every source not still busy with the previous round; resolves when they are done. */
  async round(): Promise<void> {
    const samples: Promise<void>[] = [];
    for (const { context, database, streams } of this.sources) {
      const failed = (what: string) => (err: unknown) =>
        this.log.debug({ err, context, what }, "metrics sample failed; gauge keeps its value");
      if (database) {
        samples.push(
          this.once(`db:${context}`, () =>
            database.count().then(({ outbox, inbox }) => {
              metrics.setOutboxUnpublished(context, outbox);
              if (inbox !== null) metrics.setInboxUnprocessed(context, inbox);
            }, failed("database")),
          ),
        );
      }
      if (streams) {
        void this.once(`js:${context}`, () =>
          Promise.all([
            streams.consumer().then((c) => {
              this.consumers.set(context, c);
              if (c) metrics.setConsumerPending(context, c.name, c.pending);
            }, failed("consumer")),
            streams.dlqDepth().then((n) => metrics.setDlqDepth(context, n), failed("dlq")),
          ]).then(() => undefined),
        );
      }
    }
    await Promise.all(samples);
    await this.onRound().catch((err: unknown) => this.log.debug({ err }, "status round failed"));
  }

  private once(key: string, sample: () => Promise<void>): Promise<void> {
    let p = this.inFlight.get(key);
    if (!p) {
      p = sample().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }
}
