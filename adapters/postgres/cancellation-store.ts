import type pg from "pg";
import type { CancellationStore } from "../../src/ports.js";

/**
 * Cancelled streams in the context's database (`cancelled_streams`, keyed by tenant too). The
 * inbox claim reads them (with the gateway's `chat_cancel` rows, so a command taken before its
 * queued cancel still never starts).
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
}
