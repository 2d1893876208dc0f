import type pg from "pg";
import { CONTEXTS, type ContextName } from "../../contracts/index.js";
import type { StreamDirectory, StreamRecord } from "../../src/ports.js";

/**
 * Finds a chat stream by its command in the owning context's outbox, for the caller's tenant
 * only: another tenant's stream is simply not found.
 */
export class PgStreamDirectory implements StreamDirectory {
  constructor(private readonly pools: Record<ContextName, pg.Pool>) {}

  async find(tenant: string, streamId: string): Promise<StreamRecord | null> {
    const found = await Promise.all(
      CONTEXTS.map(async (context) => {
        const r = await this.pools[context].query<{ model: string; occurred_at: Date }>(
          `SELECT payload->'payload'->>'model' AS model, occurred_at
             FROM outbox_events
            WHERE aggregate_type = 'chat_stream' AND aggregate_id = $1 AND tenant_id = $2
              AND event_type = 'chat_completion'
            LIMIT 1`,
          [streamId, tenant],
        );
        const row = r.rows[0];
        return row ? { context, model: row.model, createdAt: row.occurred_at } : null;
      }),
    );
    return found.find((f) => f !== null) ?? null;
  }
}
