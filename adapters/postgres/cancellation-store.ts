import type pg from "pg";
import type { CancellationStore } from "../../src/ports.js";

/** Cancelled streams in the context's database (`cancelled_streams`, keyed by tenant too). */
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
    const r = await this.pool.query(
      "SELECT 1 FROM cancelled_streams WHERE tenant_id = $1 AND stream_id = $2",
      [tenant, streamId],
    );
    return (r.rowCount ?? 0) > 0;
  }
}
