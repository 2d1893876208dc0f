import type pg from "pg";
import type { CancellationStore } from "../../src/ports.js";

/**
 * Cancelled streams in the context's database (`cancelled_streams`, keyed by tenant too). A
 * stream also counts as cancelled as soon as the gateway has written its `chat_cancel` command
 * to the outbox: a worker that takes the chat command before the cancel (both queued, the
 * command first) still never starts it.
 */
export class PgCancellationStore implements CancellationStore {
  constructor(private readonly pool: pg.Pool) {}

  async markCancelled(tenant: string, streamId: string, reason: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO cancelled_streams (tenant_id, stream_id, reason) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, stream_id) DO NOTHING`,
      [tenant, streamId, reason.slice(0, 500)],
    );
  }

  async isCancelled(tenant: string, streamId: string): Promise<boolean> {
    const r = await this.pool.query<{ cancelled: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM cancelled_streams WHERE tenant_id = $1 AND stream_id = $2)
           OR EXISTS (SELECT 1 FROM outbox_events
                       WHERE aggregate_id = $2 AND tenant_id = $1
                         AND aggregate_type = 'chat_stream' AND event_type = 'chat_cancel')
              AS cancelled`,
      [tenant, streamId],
    );
    return r.rows[0]?.cancelled === true;
  }
}
