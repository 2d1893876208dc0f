import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  DatabaseTooNewError,
  ensureDatabase,
  loadMigrations,
  migrate,
  provisionContextRole,
} from "../../adapters/postgres/migrator.js";
import { insertOutbox, markOutboxPublished } from "../../adapters/postgres/outbox-sql.js";
import { createPool } from "../../adapters/postgres/pool.js";
import { subjectSpace } from "../../contracts/index.js";
import { createTestWorld, testLog } from "../helpers/env.js";
import { commandMessages } from "../helpers/outbox.js";

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
      "outbox_unpublished",
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
    const [command] = commandMessages(subjectSpace(world.namespace), "sea", "lp", 1);
    const id = command!.envelope.event_id;
    const pool = createPool(asGateway);
    // What the outbox writer and the immediate dispatcher run.
    expect(await insertOutbox(pool, [command!], 1_000)).toEqual([id]);
    const pending = await query(asGateway, "SELECT id FROM outbox_unpublished WHERE id = $1", [id]);
    expect(pending.rowCount).toBe(1);
    await markOutboxPublished(pool, [id]);
    await pool.end();
    const left = await query(asGateway, "SELECT id FROM outbox_unpublished WHERE id = $1", [id]);
    expect(left.rowCount).toBe(0);
    const found = await query(
      asGateway,
      "SELECT payload, occurred_at FROM outbox_events WHERE aggregate_id = 'agg-0' AND tenant_id = 'acme'",
    );
    expect(found.rowCount).toBe(1);
    for (const sql of [
      "SELECT * FROM inbox_messages",
      "DELETE FROM outbox_events",
      "UPDATE outbox_events SET subject = 'x'",
      "UPDATE outbox_unpublished SET next_attempt_at = now()",
      "SELECT subject, correlation_id FROM outbox_events",
      "SELECT publish_error FROM outbox_unpublished",
      "INSERT INTO inbox_messages (message_id, event_type) VALUES ('m', 'x')",
    ]) {
      await expect(query(asGateway, sql), sql).rejects.toMatchObject({ code: "42501" });
    }
  });

  it("keeps what was unpublished, failing or refused across the upgrade to outbox_unpublished", async () => {
    const url = world.databaseUrls.vibespro;
    const all = await loadMigrations();
    const at6 = all.filter((m) => m.version <= 6);
    const db = `${world.namespace}_upgrade`;
    const upgradeUrl = url.replace(/\/[^/]*$/, `/${db}`);
    await ensureDatabase(upgradeUrl, testLog);
    try {
      expect(await migrate(upgradeUrl, testLog, at6)).toBe(6);
      const [due, failing, published, refused] = Array.from({ length: 4 }, () =>
        crypto.randomUUID(),
      );
      // As version 6 kept them: publication state on the event row itself.
      await query(
        upgradeUrl,
        `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, event_type, event_version,
           subject, tenant_id, payload, published_at, publish_attempts, publish_error)
         SELECT id, 'chat_stream', id::text, 'chat_completion', 1, 'x', 'acme', '{}', at, n, err
           FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::text[]) AS t(id, at, n, err)`,
        [
          [due, failing, published, refused],
          [null, null, new Date(), new Date()],
          [0, 3, 1, 1],
          [null, "TIMEOUT", null, "refused: bad header"],
        ],
      );

      expect(await migrate(upgradeUrl, testLog)).toBe(all.length);
      const r = await query(
        upgradeUrl,
        `SELECT id, publish_attempts, publish_error, refused_at IS NOT NULL AS refused
           FROM outbox_unpublished ORDER BY publish_attempts, id`,
      );
      const byId = new Map(r.rows.map((x) => [x.id as string, x]));
      expect(r.rowCount).toBe(3);
      expect(byId.get(due!)).toMatchObject({ publish_attempts: 0, refused: false });
      expect(byId.get(failing!)).toMatchObject({
        publish_attempts: 3,
        publish_error: "TIMEOUT",
        refused: false,
      });
      expect(byId.get(refused!)).toMatchObject({
        publish_error: "refused: bad header",
        refused: true,
      });
      const events = await query(upgradeUrl, "SELECT count(*)::int AS n FROM outbox_events");
      expect(events.rows[0].n).toBe(4);
    } finally {
      await query(url.replace(/\/[^/]*$/, "/postgres"), `DROP DATABASE IF EXISTS ${db}`);
    }
  });
});
