import type pg from "pg";
import type { OutboxMessage } from "../../src/ports.js";

/** What jsonb cannot hold: U+0000, and a lone UTF-16 surrogate (JSON.stringify writes `\udXXX`). */
const UNSTORABLE_ESCAPE = /\\u0000|\\ud[89a-f][0-9a-f]{2}/;
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const storable = (s: string) => s.replace(UNSTORABLE, "\ufffd");

/** `value` with every string and key made storable. */
function storableCopy(value: unknown): unknown {
  if (typeof value === "string") return storable(value);
  if (Array.isArray(value)) return value.map(storableCopy);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [storable(k), storableCopy(v)]),
    );
  }
  return value;
}

/**
 * JSON for a jsonb column. Postgres cannot store U+0000 or a lone surrogate in jsonb; a model's
 * output may carry one, and failing the whole answer for it would be worse than showing U+FFFD
 * in its place. (A client's request never gets here with one: the gateway refuses it with a 400
 * naming the field.) Checked on the JSON text first, so the common case costs one scan.
 */
function jsonbText(value: unknown): string {
  const text = JSON.stringify(value);
  if (!UNSTORABLE_ESCAPE.test(text)) return text;
  return JSON.stringify(storableCopy(value));
}

/** The twelve column arrays of an outbox insert, in the order the SQL below unnests them. */
export function outboxColumns(messages: OutboxMessage[]): unknown[] {
  const col = <T>(f: (m: OutboxMessage) => T) => messages.map(f);
  return [
    col((m) => m.envelope.event_id),
    col((m) => m.aggregateType),
    col((m) => m.aggregateId),
    col((m) => m.envelope.event_type),
    col((m) => m.envelope.event_version),
    col((m) => m.subject),
    col((m) => m.envelope.tenant_id),
    col((m) => jsonbText(m.envelope)),
    col((m) => m.envelope.occurred_at),
    col((m) => m.traceId ?? null),
    col((m) => m.envelope.correlation_id),
    col((m) => m.envelope.causation_id),
  ];
}

/**
 * The rows an outbox insert wrote (`written`, with `id` and `occurred_at`) become unpublished
 * rows, due `$grace` ms from now. Spliced after a CTE named `written` in one statement: the
 * event and its pending publication are committed together or not at all.
 */
export const pendingFromWritten = (grace: string) => `
  INSERT INTO outbox_unpublished (id, occurred_at, next_attempt_at)
  SELECT id, occurred_at, now() + ${grace} * interval '1 millisecond' FROM written`;

/**
 * Inserts outbox messages with one statement (unnest), so a batch costs one round trip. A
 * message whose id is already there is skipped (a retried request); returns the ids inserted.
 * `dispatchGraceMs` keeps relays off the rows while their writer dispatches them itself.
 */
export async function insertOutbox(
  db: pg.Pool | pg.PoolClient,
  messages: OutboxMessage[],
  dispatchGraceMs = 0,
): Promise<string[]> {
  if (messages.length === 0) return [];
  // Named (prepared once per connection): the command path runs it for every request, and
  // parsing and planning a dozen unnested arrays each time is Postgres CPU per completion.
  const r = await db.query<{ id: string }>({
    name: "outbox-insert",
    text: `WITH written AS (
       INSERT INTO outbox_events
         (id, aggregate_type, aggregate_id, event_type, event_version, subject, tenant_id,
          payload, occurred_at, trace_id, correlation_id, causation_id)
       SELECT *
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[],
                     $7::text[], $8::jsonb[], $9::timestamptz[], $10::text[], $11::text[],
                     $12::text[])
       ON CONFLICT (id) DO NOTHING
       RETURNING id, occurred_at
     )
     ${pendingFromWritten("$13")}
     RETURNING id`,
    values: [...outboxColumns(messages), dispatchGraceMs],
  });
  return r.rows.map((row) => row.id);
}

/**
 * Marks rows published by someone other than the relay (immediate dispatch): they leave
 * `outbox_unpublished`.
 */
export async function markOutboxPublished(db: pg.Pool, ids: string[]): Promise<void> {
  await db.query({
    name: "outbox-mark-published",
    text: "DELETE FROM outbox_unpublished WHERE id = ANY($1::uuid[])",
    values: [ids],
  });
}

/**
 * Makes unpublished rows due `ms` from now: a command running in the process that wrote it is
 * kept from the relays, and one to retry comes due at its retry time (LocalCommandHandoff).
 */
export async function postponeOutbox(db: pg.Pool, ids: string[], ms: number): Promise<void> {
  await db.query({
    name: "outbox-postpone",
    text: `UPDATE outbox_unpublished SET next_attempt_at = now() + $2 * interval '1 millisecond'
            WHERE id = ANY($1::uuid[]) AND refused_at IS NULL`,
    values: [ids, ms],
  });
}
