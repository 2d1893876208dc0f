import type pg from "pg";
import type { ContextName } from "../../contracts/index.js";
import { MicroBatcher } from "../../src/micro-batcher.js";
import type { OutboxMessage, OutboxPublishedMarker, OutboxWriter } from "../../src/ports.js";
import type { HandoffOutbox } from "../../src/worker/local-handoff.js";
import { insertOutbox, markOutboxPublished, postponeOutbox } from "./outbox-sql.js";

/**
 * The gateway's outbox writer: one pool per context. The messages written in one turn of the
 * event loop (requests arriving together) go out as one statement, one transaction: each
 * request's command is committed with the others or not at all, and each caller learns which of
 * its own messages were new. `dispatchGraceMs` keeps relays off fresh rows while the immediate
 * dispatcher publishes them.
 */
export class PgOutboxWriter implements OutboxWriter, OutboxPublishedMarker, HandoffOutbox {
  private readonly batchers: Record<ContextName, MicroBatcher<OutboxMessage[], string[]>>;

  constructor(
    private readonly pools: Record<ContextName, pg.Pool>,
    private readonly dispatchGraceMs = 0,
  ) {
    const batcher = (context: ContextName) =>
      new MicroBatcher<OutboxMessage[], string[]>(async (calls) => {
        // A single INSERT … SELECT unnest is atomic on its own: no BEGIN/COMMIT round trips.
        const inserted = new Set(
          await insertOutbox(this.pools[context], calls.flat(), this.dispatchGraceMs),
        );
        // A row is new for the first call that wrote it only (two retries of one request in
        // the same turn: the second finds it written, as it would a moment later).
        return calls.map((ms) =>
          ms.map((m) => m.envelope.event_id).filter((id) => inserted.delete(id)),
        );
      });
    this.batchers = { sea: batcher("sea"), vibespro: batcher("vibespro") };
  }

  enqueue(context: ContextName, messages: OutboxMessage[]): Promise<string[]> {
    return this.batchers[context].submit(messages);
  }

  async markPublished(context: ContextName, ids: string[]): Promise<void> {
    await markOutboxPublished(this.pools[context], ids);
  }

  async postpone(context: ContextName, ids: string[], ms: number): Promise<void> {
    await postponeOutbox(this.pools[context], ids, ms);
  }
}
