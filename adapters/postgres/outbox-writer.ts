import type pg from "pg";
import type { ContextName } from "../../contracts/index.js";
import type { OutboxMessage, OutboxWriter } from "../../src/ports.js";
import { insertOutbox } from "./outbox-sql.js";

/** The gateway's outbox writer: one pool per context, one statement (one transaction) per call. */
export class PgOutboxWriter implements OutboxWriter {
  constructor(private readonly pools: Record<ContextName, pg.Pool>) {}

  async enqueue(context: ContextName, messages: OutboxMessage[]): Promise<void> {
    // A single INSERT … SELECT unnest is atomic on its own: no BEGIN/COMMIT round trips.
    await insertOutbox(this.pools[context], messages);
  }
}
