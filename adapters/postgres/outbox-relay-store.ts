import pg from "pg";
import type { ClaimedOutboxRow, OutboxRelayStore, PublishOutcome } from "../../src/ports.js";
import type { Log } from "../../src/log.js";
import { insertOutbox } from "./outbox-sql.js";
import { inTransaction } from "./pool.js";

const CLAIM_DUE_ROWS = `
  SELECT u.id, e.subject, e.payload, u.publish_attempts, e.trace_id
    FROM outbox_unpublished u JOIN outbox_events e ON e.id = u.id
   WHERE u.refused_at IS NULL AND u.next_attempt_at <= now()
   ORDER BY u.occurred_at, u.id
   LIMIT $1
   FOR UPDATE OF u SKIP LOCKED`;

const MARK_PUBLISHED = `DELETE FROM outbox_unpublished WHERE id = ANY($1::uuid[])`;

// Backoff doubles from 100 ms up to 30 s per failed attempt.
const RECORD_FAILURES = `
  UPDATE outbox_unpublished u
     SET publish_attempts = u.publish_attempts + 1,
         publish_error = f.error,
         next_attempt_at = now() + least(interval '30 seconds',
                                         interval '100 milliseconds' * power(2, u.publish_attempts))
    FROM unnest($1::uuid[], $2::text[]) AS f(id, error)
   WHERE u.id = f.id`;

// A row the bus refuses for what it is: closed (never claimed again), the reason recorded.
const MARK_REFUSED = `
  UPDATE outbox_unpublished u
     SET refused_at = now(), publish_attempts = u.publish_attempts + 1,
         publish_error = 'refused: ' || f.error
    FROM unnest($1::uuid[], $2::text[]) AS f(id, error)
   WHERE u.id = f.id`;

// Only rows that failed: fresh rows inside their dispatch grace stay their writer's.
const RETRY_FAILED_NOW = `
  UPDATE outbox_unpublished
     SET next_attempt_at = now()
   WHERE refused_at IS NULL AND publish_attempts > 0 AND next_attempt_at > now()`;

/** A context's outbox as its relays see it, with a LISTEN connection for wake-ups. */
export class PgOutboxRelayStore implements OutboxRelayStore {
  private listener: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private notified = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
    private readonly log: Log,
  ) {}

  async relayBatch(
    limit: number,
    publish: (rows: ClaimedOutboxRow[]) => Promise<PublishOutcome[]>,
  ): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{
        id: string;
        subject: string;
        payload: ClaimedOutboxRow["envelope"];
        publish_attempts: number;
        trace_id: string | null;
      }>(CLAIM_DUE_ROWS, [limit]);
      if (rows.length === 0) return 0;
      const outcomes = await publish(
        rows.map((r) => ({
          id: r.id,
          subject: r.subject,
          envelope: r.payload,
          attempts: r.publish_attempts,
          traceparent: r.trace_id,
        })),
      );
      const published = outcomes.filter((o) => o.ok).map((o) => o.id);
      const notPublished = outcomes.filter(
        (o): o is Extract<PublishOutcome, { ok: false }> => !o.ok,
      );
      const failed = notPublished.filter((o) => !o.refused);
      const refused = notPublished.filter((o) => o.refused);
      if (published.length > 0) await client.query(MARK_PUBLISHED, [published]);
      if (failed.length > 0) {
        await client.query(RECORD_FAILURES, [failed.map((f) => f.id), failed.map((f) => f.error)]);
      }
      if (refused.length > 0) {
        await client.query(MARK_REFUSED, [refused.map((f) => f.id), refused.map((f) => f.error)]);
        await insertOutbox(
          client,
          refused.flatMap((f) => f.refused!.instead),
        );
      }
      return rows.length;
    });
  }

  async retryFailedNow(): Promise<number> {
    const { rowCount } = await this.pool.query(RETRY_FAILED_NOW);
    if (rowCount) {
      this.notified = true;
      this.wake?.();
    }
    return rowCount ?? 0;
  }

  async waitForRows(timeoutMs: number, signal: AbortSignal): Promise<void> {
    await this.ensureListening();
    if (this.notified || signal.aborted) {
      this.notified = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
    this.notified = false;
  }

  async close(): Promise<void> {
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => undefined);
  }

  /** (Re)connects the LISTEN client; failures only log, since polling still works. */
  private async ensureListening(): Promise<void> {
    if (this.listener) return;
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.connectionString });
      client.on("notification", () => {
        this.notified = true;
        this.wake?.();
      });
      client.on("error", (err) => {
        this.log.warn({ err }, "outbox LISTEN connection lost; polling until it is back");
        if (this.listener === client) this.listener = null;
        client.end().catch(() => undefined);
      });
      try {
        await client.connect();
        await client.query("LISTEN outbox_events");
        this.listener = client;
        // Rows may have arrived while not listening.
        this.notified = true;
      } catch (err) {
        this.log.warn({ err }, "could not LISTEN for outbox rows; polling");
        await client.end().catch(() => undefined);
      }
    })().finally(() => {
      this.connecting = null;
    });
    await this.connecting;
  }
}
