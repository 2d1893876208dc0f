import type { ContextName } from "../../contracts/index.js";
import type { Log } from "../log.js";
import type { ConsumerState, ContextSources } from "./backlog.js";
import { metrics } from "./metrics.js";

/**
 * Sets the gauges read from Postgres and JetStream on a timer, never per scrape: a scrape (or
 * ten Prometheus replicas scraping) costs no query. One round of samples runs at a time, so a
 * slow database is not piled on; each source is at most one query per context per round, and a
 * failed one leaves its gauge at the last value (and logs at debug).
 */
export class GaugeSampler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly consumers = new Map<ContextName, ConsumerState | null>();

  constructor(
    private readonly sources: ContextSources[],
    private readonly everyMs: number,
    private readonly log: Log,
    /** Called after each round (the status page's time series). */
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
    await this.running;
  }

  /** The last consumer states read (for the status page), by context. */
  consumerStates(): Map<ContextName, ConsumerState | null> {
    return new Map(this.consumers);
  }

  /** One round now (also what the timer runs); resolves when it is done. */
  round(): Promise<void> {
    this.running ??= this.sampleAll().finally(() => (this.running = null));
    return this.running;
  }

  private async sampleAll(): Promise<void> {
    await Promise.all(this.sources.map((s) => this.sample(s)));
    await this.onRound().catch((err: unknown) => this.log.debug({ err }, "status round failed"));
  }

  private async sample({ context, database, streams }: ContextSources): Promise<void> {
    const failed = (what: string) => (err: unknown) => {
      this.log.debug({ err, context, what }, "metrics sample failed; gauge keeps its value");
    };
    await Promise.all([
      database?.count().then(({ outbox, inbox }) => {
        metrics.setOutboxUnpublished(context, outbox);
        if (inbox !== null) metrics.setInboxUnprocessed(context, inbox);
      }, failed("database")),
      streams?.consumer().then((c) => {
        this.consumers.set(context, c);
        if (c) metrics.setConsumerPending(context, c.name, c.pending);
      }, failed("consumer")),
      streams?.dlqDepth().then((n) => metrics.setDlqDepth(context, n), failed("dlq")),
    ]);
  }
}
