import pg from "pg";

/** A pool for one context database; errors on idle clients are logged, never fatal. */
export function createPool(
  connectionString: string,
  opts: {
    max?: number;
    /**
     * How long a query may wait for a free connection (a burst queues, it does not fail);
     * PG_POOL_WAIT_MS for the roles' pools, pg's own default (no limit) otherwise.
     */
    waitMs?: number;
    onError?: (err: Error) => void;
    relaxedCommit?: boolean;
  } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    idleTimeoutMillis: 10_000,
    ...(opts.waitMs !== undefined ? { connectionTimeoutMillis: opts.waitMs } : {}),
    // `relaxedCommit`: commits return before their WAL is flushed. Only for writes whose loss
    // in a database crash is repaired by a retry (leases, "published" marks), never for
    // commands, results or processed marks.
    ...(opts.relaxedCommit ? { options: "-c synchronous_commit=off" } : {}),
  });
  pool.on("error", (err) => opts.onError?.(err));
  return pool;
}

/** Runs `fn` in a transaction on one client of `pool`. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The database name in a connection URL. */
export function databaseName(connectionString: string): string {
  const name = decodeURIComponent(new URL(connectionString).pathname.replace(/^\//, ""));
  if (!name) throw new Error("the database URL names no database");
  return name;
}

/** The same URL pointing at another database on the same server. */
export function withDatabase(connectionString: string, database: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}
