import type pg from "pg";
import type { ContextName } from "../../contracts/index.js";
import type { OutboxMessage, OutboxPublishedMarker, OutboxWriter } from "../../src/ports.js";
import { insertOutbox, markOutboxPublished } from "./outbox-sql.js";

/**
 * The gateway's outbox writer: one pool per context, one statement (one transaction) per call.
 * `dispatchGraceMs` keeps relays off fresh rows while the immediate dispatcher publishes them.
 */
export class PgOutboxWriter implements OutboxWriter, OutboxPublishedMarker {
  constructor(
    private readonly pools: Record<ContextName, pg.Pool>,
    private readonly dispatchGraceMs = 0,
  ) {}

  async enqueue(context: ContextName, messages: OutboxMessage[]): Promise<string[]> {
    // A single INSERT … SELECT unnest is atomic on its own: no BEGIN/COMMIT round trips.
    return insertOutbox(this.pools[context], messages, this.dispatchGraceMs);
  }

  async markPublished(context: ContextName, ids: string[]): Promise<void> {
    await markOutboxPublished(this.pools[context], ids);
  }
}
