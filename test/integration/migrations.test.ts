import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  DatabaseTooNewError,
  ensureDatabase,
  migrate,
  provisionContextRole,
} from "../../adapters/postgres/migrator.js";
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
    expect(versions).toEqual([3, 3]);
    expect(await migrate(url, testLog)).toBe(3);
    const applied = await query(url, "SELECT version FROM schema_migrations ORDER BY 1");
    expect(applied.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
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
});
