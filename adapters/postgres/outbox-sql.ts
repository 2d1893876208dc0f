import type pg from "pg";
import type { OutboxMessage } from "../../src/ports.js";

/**
 * Inserts outbox messages with one statement (unnest), so a batch costs one round trip.
 * Runs on the caller's client: inside the caller's transaction when there is one.
 */
export async function insertOutbox(
  db: pg.Pool | pg.PoolClient,
  messages: OutboxMessage[],
): Promise<void> {
  if (messages.length === 0) return;
  const col = <T>(f: (m: OutboxMessage) => T) => messages.map(f);
  await db.query(
    `INSERT INTO outbox_events
       (id, aggregate_type, aggregate_id, event_type, event_version, subject, tenant_id, payload,
        occurred_at, trace_id, correlation_id, causation_id)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[],
                          $7::text[], $8::jsonb[], $9::timestamptz[], $10::text[], $11::text[],
                          $12::text[])`,
    [
      col((m) => m.envelope.event_id),
      col((m) => m.aggregateType),
      col((m) => m.aggregateId),
      col((m) => m.envelope.event_type),
      col((m) => m.envelope.event_version),
      col((m) => m.subject),
      col((m) => m.envelope.tenant_id),
      col((m) => JSON.stringify(m.envelope)),
      col((m) => m.envelope.occurred_at),
      col((m) => m.traceId ?? null),
      col((m) => m.envelope.correlation_id),
      col((m) => m.envelope.causation_id),
    ],
  );
}
