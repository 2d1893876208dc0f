import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  DatabaseTooNewError,
  ensureDatabase,
  loadMigrations,
  migrate,
  provisionContextRole,
} from "../../adapters/postgres/migrator.js";
import { markOutboxPublished } from "../../adapters/postgres/outbox-sql.js";
import { createPool } from "../../adapters/postgres/pool.js";
import { createTestWorld, testLog } from "../helpers/env.js";

const world = createTestWorld("migr");

afterAll(() => world.cleanup());

async function query(url: string, sql: string, params: unknown[] = []) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

describe("migrations", () => {
  it("creates a missing database and migrates it, concurrently and idempotently", async () => {
    const url = world.databaseUrls.sea;
    await Promise.all([ensureDatabase(url, testLog), ensureDatabase(url, testLog)]);
    const versions = await Promise.all([migrate(url, testLog), migrate(url, testLog)]);
    const latest = (await loadMigrations()).length;
    expect(latest).toBeGreaterThanOrEqual(5);
    expect(versions).toEqual([latest, latest]);
    expect(await migrate(url, testLog)).toBe(latest);
    const applied = await query(url, "SELECT version FROM schema_migrations ORDER BY 1");
    expect(applied.rows).toEqual(Array.from({ length: latest }, (_, i) => ({ version: i + 1 })));
    const tables = await query(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      "cancelled_streams",
      "inbox_messages",
      "outbox_events",
      "schema_migrations",
    ]);
  });

  it("refuses a database newer than the code", async () => {
    const url = world.databaseUrls.sea;
    await query(url, "INSERT INTO schema_migrations (version, name) VALUES (99, '099_future')");
    await expect(migrate(url, testLog)).rejects.toBeInstanceOf(DatabaseTooNewError);
    await query(url, "DELETE FROM schema_migrations WHERE version = 99");
  });

  it("gives each context a role that reaches only its own database", async () => {
    for (const ctx of ["sea", "vibespro"] as const) {
      const url = world.databaseUrls[ctx];
      await ensureDatabase(url, testLog);
      await migrate(url, testLog);
      await provisionContextRole(url, ctx, testLog);
    }
    const as = (role: string, ctx: "sea" | "vibespro") => {
      const u = new URL(world.databaseUrls[ctx]);
      u.username = role;
      return u.toString();
    };
    const own = await query(as("sea_app", "sea"), "SELECT count(*)::int AS n FROM outbox_events");
    expect(own.rows[0].n).toBe(0);
    await expect(query(as("sea_app", "vibespro"), "SELECT 1")).rejects.toMatchObject({
      code: "42501",
    });
    await expect(query(as("vibespro_app", "sea"), "SELECT 1")).rejects.toMatchObject({
      code: "42501",
    });
  });

  it("gives the gateway role only what it needs: insert commands, mark them, look streams up", async () => {
    const url = new URL(world.databaseUrls.sea);
    url.username = "sea_gateway";
    const asGateway = url.toString();
    const id = crypto.randomUUID();
    await query(
      asGateway,
      `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, event_type, event_version,
         subject, tenant_id, payload) VALUES ($1, 'chat_stream', 's1', 'chat_completion', 1,
         'sea.command.chat_completion.v1', 'acme', '{}')`,
      [id],
    );
    const pool = createPool(asGateway);
    await markOutboxPublished(pool, [id]); // what the immediate dispatcher runs
    await pool.end();
    const found = await query(
      asGateway,
      "SELECT payload, occurred_at FROM outbox_events WHERE aggregate_id = 's1' AND tenant_id = 'acme'",
    );
    expect(found.rowCount).toBe(1);
    for (const sql of [
      "SELECT * FROM inbox_messages",
      "DELETE FROM outbox_events",
      "UPDATE outbox_events SET subject = 'x'",
      "SELECT subject, correlation_id FROM outbox_events",
      "INSERT INTO inbox_messages (message_id, event_type) VALUES ('m', 'x')",
    ]) {
      await expect(query(asGateway, sql), sql).rejects.toMatchObject({ code: "42501" });
    }
  });
});
