import type pg from "pg";
import type { DatabaseBacklog } from "../../src/observability/backlog.js";

/** Beyond this many rows a backlog is reported as this many: counting it whole would cost. */
export const BACKLOG_CAP = 100_000;

// Both counts stop at the cap; one statement: one round trip per context per sample. The outbox
// backlog is what relays have to publish: rows due, and rows that failed and wait out a backoff.
// Not a row still its writer's (the dispatch grace, or a command `up` runs itself, kept a lease
// ahead: neither is late), nor a refused one (it never will be published).
const OUTBOX = `(SELECT count(*) FROM (SELECT 1 FROM outbox_unpublished
   WHERE refused_at IS NULL AND (next_attempt_at <= now() OR publish_attempts > 0)
   LIMIT ${BACKLOG_CAP}) o)::int`;
const INBOX = `(SELECT count(*) FROM (SELECT 1 FROM inbox_messages WHERE processed_at IS NULL LIMIT ${BACKLOG_CAP}) i)::int`;

/**
 * A context database's backlog. The gateway's role may read which outbox rows are unpublished
 * but not the inbox: `withInbox` is false there.
 */
export class PgBacklog implements DatabaseBacklog {
  private readonly sql: string;

  constructor(
    private readonly pool: pg.Pool,
    withInbox: boolean,
  ) {
    this.sql = `SELECT ${OUTBOX} AS outbox, ${withInbox ? INBOX : "NULL::int"} AS inbox`;
  }

  async count(): Promise<{ outbox: number; inbox: number | null }> {
    const r = await this.pool.query<{ outbox: number; inbox: number | null }>(this.sql);
    return r.rows[0]!;
  }
}
