import type { ContextName, SubjectSpace } from "../../contracts/index.js";
import type { Log } from "../log.js";
import { metrics } from "../observability/metrics.js";
import { MessageRefusedError } from "../outbox/message-refused.js";
import { publishEnvelope } from "../outbox/publish-envelope.js";
import type {
  ClaimedOutboxRow,
  OutboxRelayStore,
  PublishOutcome,
  StreamPublisher,
} from "../ports.js";
import { backoffMs, sleep } from "../sleep.js";
import { deadLetterRefused } from "./refused-row.js";

/** Settings and ports of one context's relay. */
export interface OutboxRelayDeps {
  context: ContextName;
  subjects: SubjectSpace;
  store: OutboxRelayStore;
  publisher: StreamPublisher;
  batchSize: number;
  /** Fallback poll interval when no NOTIFY arrives. */
  pollMs: number;
  log: Log;
}

/**
 * Moves one context's outbox to JetStream. Rows are claimed in batches with `FOR UPDATE SKIP
 * LOCKED` (several relays never share a row), published with `Nats-Msg-Id` = row id (a crash
 * between publish and mark republishes, and JetStream drops the duplicate), then marked. It
 * wakes on NOTIFY and polls as a fallback; a failed publish is recorded on the row and retried
 * with backoff.
 */
export class OutboxRelay {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(private readonly deps: OutboxRelayDeps) {}

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * The bus is back after an outage: rows whose publish failed meanwhile are retried now rather
   * than after their backoff (up to 30 s), so what clients wrote during the outage goes out as
   * soon as it can.
   */
  busBack(): void {
    const { store, log, context } = this.deps;
    store.retryFailedNow().then(
      (n) => {
        if (n > 0) log.info({ context, rows: n }, "bus is back; retrying failed rows now");
      },
      (err: unknown) => log.warn({ err, context }, "could not make failed rows due now"),
    );
  }

  /** Stops claiming; resolves once the batch in flight has been recorded. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { store, batchSize, pollMs, log } = this.deps;
    const signal = this.abort.signal;
    let storeFailures = 0;
    while (!signal.aborted) {
      let claimed: number;
      try {
        claimed = await store.relayBatch(batchSize, (rows) => this.publish(rows));
        storeFailures = 0;
        if (claimed > 0) metrics.relayBatch(this.deps.context, claimed);
      } catch (err) {
        storeFailures++;
        log.error({ err, context: this.deps.context }, "outbox relay batch failed");
        await sleep(backoffMs(storeFailures, 100, 10_000), signal);
        continue;
      }
      if (claimed < batchSize) await store.waitForRows(pollMs, signal);
    }
  }

  private async publish(rows: ClaimedOutboxRow[]): Promise<PublishOutcome[]> {
    const { publisher, log } = this.deps;
    // One connection keeps publish order; awaiting them together overlaps the acks.
    return Promise.all(
      rows.map(async (row): Promise<PublishOutcome> => {
        try {
          const started = performance.now();
          await publishEnvelope(publisher, row.subject, row.envelope, row.id, row.traceparent);
          metrics.relayPublished(this.deps.context, performance.now() - started);
          log.debug(
            {
              outbox_id: row.id,
              subject: row.subject,
              correlation_id: row.envelope.correlation_id,
              causation_id: row.envelope.causation_id,
            },
            "relay published an outbox row",
          );
          return { id: row.id, ok: true };
        } catch (err) {
          if (err instanceof MessageRefusedError) return this.refused(row, err);
          log.warn(
            {
              err,
              outbox_id: row.id,
              subject: row.subject,
              attempts: row.attempts + 1,
              correlation_id: row.envelope.correlation_id,
            },
            "outbox publish failed; will retry",
          );
          return { id: row.id, ok: false, error: (err as Error).message };
        }
      }),
    );
  }

  /**
   * A row the bus refuses for what it is is a poison message, not a transient failure: it is
   * dead-lettered and closed, and its client told, instead of being retried forever.
   */
  private async refused(row: ClaimedOutboxRow, err: MessageRefusedError): Promise<PublishOutcome> {
    const { log, context } = this.deps;
    const ids = { outbox_id: row.id, subject: row.subject, stream_id: row.envelope.stream_id };
    try {
      const instead = await deadLetterRefused(this.deps, row, err.message);
      log.warn({ ...ids, reason: err.message }, "outbox row refused by the bus; dead-lettered");
      return { id: row.id, ok: false, error: err.message, refused: { instead } };
    } catch (dlqErr) {
      log.warn({ ...ids, context, err: dlqErr }, "could not dead-letter a refused row; will retry");
      return { id: row.id, ok: false, error: (dlqErr as Error).message };
    }
  }
}
