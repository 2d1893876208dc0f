import type pg from "pg";
import type { InboxClaim, InboxStore, OutboxMessage } from "../../src/ports.js";
import { MicroBatcher } from "../../src/micro-batcher.js";
import { outboxColumns, pendingFromWritten } from "./outbox-sql.js";

// One round trip for a batch of claims: each row is inserted, or an unprocessed one whose lease
// has run out (a worker died) is re-taken; otherwise the row as it was before this statement
// tells whether it is processed or how long its lease still runs. Also tells whether each
// stream was cancelled: a `cancelled_streams` row, or a `chat_cancel` command the gateway wrote
// even if no worker has taken it yet.
const CLAIM = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[])
      WITH ORDINALITY AS t(message_id, event_type, lease_ms, tenant_id, stream_id, n)
  ), claimed AS (
    INSERT INTO inbox_messages AS i (message_id, event_type, process_attempts, locked_until)
    SELECT message_id, event_type, 1, now() + lease_ms * interval '1 millisecond' FROM input
    ON CONFLICT (message_id) DO UPDATE
       SET process_attempts = i.process_attempts + 1, locked_until = EXCLUDED.locked_until
     WHERE i.processed_at IS NULL AND (i.locked_until IS NULL OR i.locked_until < now())
    RETURNING message_id, process_attempts
  )
  SELECT c.process_attempts AS attempts,
         p.processed_at IS NOT NULL AS processed,
         greatest(0, extract(epoch FROM p.locked_until - now()) * 1000)::int AS lease_left_ms,
         t.tenant_id IS NOT NULL AND (
           EXISTS (SELECT 1 FROM cancelled_streams cs
                    WHERE cs.tenant_id = t.tenant_id AND cs.stream_id = t.stream_id)
           OR EXISTS (SELECT 1 FROM outbox_events o
                       WHERE o.aggregate_id = t.stream_id AND o.tenant_id = t.tenant_id
                         AND o.aggregate_type = 'chat_stream' AND o.event_type = 'chat_cancel')
         ) AS cancelled
    FROM input t
    LEFT JOIN claimed c ON c.message_id = t.message_id
    LEFT JOIN inbox_messages p ON p.message_id = t.message_id
   ORDER BY t.n`;

// CLAIM for one message, with scalar parameters: the same answer, but a statement Postgres can
// plan once per connection and reuse (a generic plan), where the unnested form is planned anew on
// every run — planning was two thirds of a lone claim's time in the database (0.14 of 0.2 ms),
// and a lone claim is on a new stream's path to its first chunk. Kept row for row equal to CLAIM
// (test/integration/inbox-store.test.ts runs every case through both).
const CLAIM_ONE = `
  WITH claimed AS (
    INSERT INTO inbox_messages AS i (message_id, event_type, process_attempts, locked_until)
    VALUES ($1, $2, 1, now() + $3::int * interval '1 millisecond')
    ON CONFLICT (message_id) DO UPDATE
       SET process_attempts = i.process_attempts + 1, locked_until = EXCLUDED.locked_until
     WHERE i.processed_at IS NULL AND (i.locked_until IS NULL OR i.locked_until < now())
    RETURNING process_attempts
  )
  SELECT (SELECT process_attempts FROM claimed) AS attempts,
         p.processed_at IS NOT NULL AS processed,
         greatest(0, extract(epoch FROM p.locked_until - now()) * 1000)::int AS lease_left_ms,
         $4::text IS NOT NULL AND (
           EXISTS (SELECT 1 FROM cancelled_streams cs
                    WHERE cs.tenant_id = $4 AND cs.stream_id = $5::text)
           OR EXISTS (SELECT 1 FROM outbox_events o
                       WHERE o.aggregate_id = $5 AND o.tenant_id = $4
                         AND o.aggregate_type = 'chat_stream' AND o.event_type = 'chat_cancel')
         ) AS cancelled
    FROM (VALUES (1)) AS one (n)
    LEFT JOIN inbox_messages p ON p.message_id = $1`;

const EXTEND = `
  UPDATE inbox_messages SET locked_until = now() + $2 * interval '1 millisecond'
   WHERE message_id = ANY($1::text[]) AND processed_at IS NULL`;

const RELEASE = `
  UPDATE inbox_messages SET locked_until = NULL, last_error = $2
   WHERE message_id = $1 AND processed_at IS NULL`;

// One statement, so one implicit transaction and one round trip for a batch: each inbox row is
// closed and its terminal events are written together, and only by the call that closed the
// row (outbox rows carry the message id they belong to). With $18 (only if unleased), a row a
// live worker holds is left alone.
const COMPLETE = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS t(message_id, event_type, error)
  ), marked AS (
    INSERT INTO inbox_messages AS i (message_id, event_type, processed_at, process_attempts, last_error)
    SELECT message_id, event_type, now(), 1, error FROM input
    ON CONFLICT (message_id) DO UPDATE
       SET processed_at = now(), locked_until = NULL,
           last_error = coalesce(EXCLUDED.last_error, i.last_error)
     WHERE i.processed_at IS NULL
       AND (NOT $18::boolean OR i.locked_until IS NULL OR i.locked_until < now())
    RETURNING message_id
  ), written AS (
    INSERT INTO outbox_events
      (id, aggregate_type, aggregate_id, event_type, event_version, subject, tenant_id, payload,
       occurred_at, trace_id, correlation_id, causation_id)
    SELECT o.id, o.aggregate_type, o.aggregate_id, o.event_type, o.event_version, o.subject,
           o.tenant_id, o.payload, o.occurred_at, o.trace_id, o.correlation_id, o.causation_id
      FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[],
                  $10::text[], $11::jsonb[], $12::timestamptz[], $13::text[], $14::text[],
                  $15::text[], $16::text[])
           AS o(id, aggregate_type, aggregate_id, event_type, event_version, subject, tenant_id,
                payload, occurred_at, trace_id, correlation_id, causation_id, owner)
     WHERE o.owner IN (SELECT message_id FROM marked)
    RETURNING id, occurred_at
  ), pending AS (${pendingFromWritten("$17")}
  )
  SELECT message_id FROM marked`;

interface ClaimRequest {
  messageId: string;
  eventType: string;
  leaseMs: number;
  stream: { tenant: string; streamId: string } | undefined;
}

interface CloseRequest {
  messageId: string;
  eventType: string;
  outbox: OutboxMessage[];
  error: string | null;
}

/** A claim's parameters, in the order CLAIM and CLAIM_ONE take them. */
const claimValues = (c: ClaimRequest): (string | number | null)[] => [
  c.messageId,
  c.eventType,
  c.leaseMs,
  c.stream?.tenant ?? null,
  c.stream?.streamId ?? null,
];

/** Splits items so that no batch holds the same message twice (one statement may not). */
function uniqueBatches<T extends { messageId: string }>(items: T[]): T[][] {
  const batches: T[][] = [];
  for (const item of items) {
    const free = batches.find((b) => !b.some((x) => x.messageId === item.messageId));
    if (free) free.push(item);
    else batches.push([item]);
  }
  return batches;
}

/**
 * A context's inbox (PK dedupe plus a lease per running attempt) and its outbox.
 *
 * Claims and completions made in the same turn of the event loop go out as one statement (see
 * {@link MicroBatcher}): the number of round trips to the database stays near the number of
 * turns, not the number of commands. Claims, lease extensions and releases may go through
 * `leasePool`, a relaxed-commit pool: a claim lost in a database crash only means the
 * redelivered message is claimed again, and `complete` upserts the row anyway. `complete`
 * itself always commits durably on `pool`.
 */
export class PgInboxStore implements InboxStore {
  private readonly claims = new MicroBatcher<ClaimRequest, InboxClaim>((items) =>
    this.claimBatch(items),
  );
  private readonly completions = new MicroBatcher<CloseRequest, boolean>((items) =>
    this.closeBatch(items, false),
  );

  constructor(
    private readonly pool: pg.Pool,
    private readonly dispatchGraceMs = 0,
    private readonly leasePool: pg.Pool = pool,
  ) {}

  claim(
    messageId: string,
    eventType: string,
    leaseMs: number,
    stream?: { tenant: string; streamId: string },
  ): Promise<InboxClaim> {
    return this.claims.submit({ messageId, eventType, leaseMs, stream });
  }

  private async claimBatch(items: ClaimRequest[]): Promise<InboxClaim[]> {
    const out = new Map<ClaimRequest, InboxClaim>();
    for (const batch of uniqueBatches(items)) {
      // The same five values per claim: scalars for CLAIM_ONE, one array per column for CLAIM.
      const values = batch.map(claimValues);
      const r = await this.leasePool.query<{
        attempts: number | null;
        processed: boolean;
        lease_left_ms: number | null;
        cancelled: boolean;
      }>(
        // Named: parsed once per connection, not once per claim.
        values.length === 1
          ? { name: "inbox-claim-one", text: CLAIM_ONE, values: values[0]! }
          : {
              name: "inbox-claim",
              text: CLAIM,
              values: values[0]!.map((_, k) => values.map((v) => v[k])),
            },
      );
      batch.forEach((c, i) => {
        const row = r.rows[i]!;
        out.set(
          c,
          row.attempts !== null
            ? { status: "claimed", attempts: row.attempts, cancelled: row.cancelled }
            : row.processed
              ? { status: "processed" }
              : { status: "busy", retryInMs: Math.max(100, row.lease_left_ms ?? 0) },
        );
      });
    }
    return items.map((c) => out.get(c)!);
  }

  async extendLeases(messageIds: string[], leaseMs: number): Promise<void> {
    if (messageIds.length === 0) return;
    await this.leasePool.query(EXTEND, [messageIds, leaseMs]);
  }

  async release(messageId: string, error: string): Promise<void> {
    await this.leasePool.query(RELEASE, [messageId, error.slice(0, 2000)]);
  }

  complete(
    messageId: string,
    eventType: string,
    outbox: OutboxMessage[],
    error?: string,
  ): Promise<boolean> {
    return this.completions.submit({ messageId, eventType, outbox, error: error ?? null });
  }

  async closeUnstarted(
    messageId: string,
    eventType: string,
    outbox: OutboxMessage[],
  ): Promise<boolean> {
    const request = { messageId, eventType, outbox, error: "cancelled before it started" };
    return (await this.closeBatch([request], true))[0]!;
  }

  private async closeBatch(items: CloseRequest[], onlyIfUnleased: boolean): Promise<boolean[]> {
    const closed = new Set<CloseRequest>();
    for (const batch of uniqueBatches(items)) {
      const outbox = batch.flatMap((c) => c.outbox.map((m) => ({ m, owner: c.messageId })));
      const r = await this.pool.query<{ message_id: string }>({
        name: "inbox-complete",
        text: COMPLETE,
        values: [
          batch.map((c) => c.messageId),
          batch.map((c) => c.eventType),
          batch.map((c) => c.error?.slice(0, 2000) ?? null),
          ...outboxColumns(outbox.map((o) => o.m)),
          outbox.map((o) => o.owner),
          this.dispatchGraceMs,
          onlyIfUnleased,
        ],
      });
      const ids = new Set(r.rows.map((row) => row.message_id));
      for (const c of batch) if (ids.has(c.messageId)) closed.add(c);
    }
    return items.map((c) => closed.has(c));
  }
}
