import type pg from "pg";
import type { CancellationStore } from "../../src/ports.js";

/** Cancelled streams in the context's database (`cancelled_streams`). */
export class PgCancellationStore implements CancellationStore {
  constructor(private readonly pool: pg.Pool) {}

  async markCancelled(streamId: string, reason: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO cancelled_streams (stream_id, reason) VALUES ($1, $2)
       ON CONFLICT (stream_id) DO NOTHING`,
      [streamId, reason.slice(0, 500)],
    );
  }

  async isCancelled(streamId: string): Promise<boolean> {
    const r = await this.pool.query("SELECT 1 FROM cancelled_streams WHERE stream_id = $1", [
      streamId,
    ]);
    return (r.rowCount ?? 0) > 0;
  }
}
