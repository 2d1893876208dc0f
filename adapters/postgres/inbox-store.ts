import type pg from "pg";
import type { InboxClaim, InboxStore, OutboxMessage } from "../../src/ports.js";
import { outboxColumns } from "./outbox-sql.js";

// One round trip: inserts the row, or re-takes an unprocessed one whose lease has run out (a
// worker died); otherwise reports whether it is processed or how long its lease still runs
// (the CTEs read the row as it was before this statement). Also tells whether the stream was
// cancelled: a `cancelled_streams` row, or a `chat_cancel` command the gateway wrote even if no
// worker has taken it yet.
const CLAIM = `
  WITH claimed AS (
    INSERT INTO inbox_messages AS i (message_id, event_type, process_attempts, locked_until)
    VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
    ON CONFLICT (message_id) DO UPDATE
       SET process_attempts = i.process_attempts + 1, locked_until = EXCLUDED.locked_until
     WHERE i.processed_at IS NULL AND (i.locked_until IS NULL OR i.locked_until < now())
    RETURNING process_attempts
  ), prior AS (
    SELECT processed_at IS NOT NULL AS processed,
           greatest(0, extract(epoch FROM locked_until - now()) * 1000)::int AS lease_left_ms
      FROM inbox_messages WHERE message_id = $1
  )
  SELECT (SELECT process_attempts FROM claimed) AS attempts,
         (SELECT processed FROM prior) AS processed,
         (SELECT lease_left_ms FROM prior) AS lease_left_ms,
         $4::text IS NOT NULL AND (
           EXISTS (SELECT 1 FROM cancelled_streams WHERE tenant_id = $4 AND stream_id = $5)
           OR EXISTS (SELECT 1 FROM outbox_events
                       WHERE aggregate_id = $5 AND tenant_id = $4
                         AND aggregate_type = 'chat_stream' AND event_type = 'chat_cancel')
         ) AS cancelled`;

const EXTEND = `
  UPDATE inbox_messages SET locked_until = now() + $2 * interval '1 millisecond'
   WHERE message_id = ANY($1::text[]) AND processed_at IS NULL`;

const RELEASE = `
  UPDATE inbox_messages SET locked_until = NULL, last_error = $2
   WHERE message_id = $1 AND processed_at IS NULL`;

// One statement, so one implicit transaction and one round trip: the inbox row is closed and
// the terminal events are written together, and only by the call that closed the row. With
// $17 (only if unleased), a row a live worker holds is left alone.
const COMPLETE = `
  WITH marked AS (
    INSERT INTO inbox_messages AS i (message_id, event_type, processed_at, process_attempts, last_error)
    VALUES ($1, $2, now(), 1, $3)
    ON CONFLICT (message_id) DO UPDATE
       SET processed_at = now(), locked_until = NULL,
           last_error = coalesce(EXCLUDED.last_error, i.last_error)
     WHERE i.processed_at IS NULL
       AND (NOT $17::boolean OR i.locked_until IS NULL OR i.locked_until < now())
    RETURNING 1
  ), written AS (
    INSERT INTO outbox_events
      (id, aggregate_type, aggregate_id, event_type, event_version, subject, tenant_id, payload,
       occurred_at, trace_id, correlation_id, causation_id, next_attempt_at)
    SELECT o.*, now() + $16 * interval '1 millisecond'
      FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[],
                  $10::text[], $11::jsonb[], $12::timestamptz[], $13::text[], $14::text[],
                  $15::text[]) AS o
     WHERE EXISTS (SELECT 1 FROM marked)
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM marked) AS closed`;

/**
 * A context's inbox (PK dedupe plus a lease per running attempt) and its outbox.
 *
 * Claims, lease extensions and releases may go through `leasePool`, a relaxed-commit pool: a
 * claim lost in a database crash only means the redelivered message is claimed again, and
 * `complete` upserts the row anyway. `complete` itself always commits durably on `pool`.
 */
export class PgInboxStore implements InboxStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly dispatchGraceMs = 0,
    private readonly leasePool: pg.Pool = pool,
  ) {}

  async claim(
    messageId: string,
    eventType: string,
    leaseMs: number,
    stream?: { tenant: string; streamId: string },
  ): Promise<InboxClaim> {
    const r = await this.leasePool.query<{
      attempts: number | null;
      processed: boolean | null;
      lease_left_ms: number | null;
      cancelled: boolean;
    }>(CLAIM, [messageId, eventType, leaseMs, stream?.tenant ?? null, stream?.streamId ?? null]);
    const row = r.rows[0]!;
    if (row.attempts !== null) {
      return { status: "claimed", attempts: row.attempts, cancelled: row.cancelled };
    }
    if (row.processed !== false) return { status: "processed" };
    return { status: "busy", retryInMs: Math.max(100, row.lease_left_ms ?? 0) };
  }

  async extendLeases(messageIds: string[], leaseMs: number): Promise<void> {
    if (messageIds.length === 0) return;
    await this.leasePool.query(EXTEND, [messageIds, leaseMs]);
  }

  async release(messageId: string, error: string): Promise<void> {
    await this.leasePool.query(RELEASE, [messageId, error.slice(0, 2000)]);
  }

  async complete(
    messageId: string,
    eventType: string,
    outbox: OutboxMessage[],
    error?: string,
  ): Promise<boolean> {
    return this.close(messageId, eventType, outbox, error ?? null, false);
  }

  async closeUnstarted(
    messageId: string,
    eventType: string,
    outbox: OutboxMessage[],
  ): Promise<boolean> {
    return this.close(messageId, eventType, outbox, "cancelled before it started", true);
  }

  private async close(
    messageId: string,
    eventType: string,
    outbox: OutboxMessage[],
    error: string | null,
    onlyIfUnleased: boolean,
  ): Promise<boolean> {
    const r = await this.pool.query<{ closed: boolean }>(COMPLETE, [
      messageId,
      eventType,
      error?.slice(0, 2000) ?? null,
      ...outboxColumns(outbox),
      this.dispatchGraceMs,
      onlyIfUnleased,
    ]);
    return r.rows[0]?.closed === true;
  }
}
