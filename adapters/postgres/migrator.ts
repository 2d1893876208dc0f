import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { ContextName } from "../../contracts/index.js";
import type { Log } from "../../src/log.js";
import { databaseName, withDatabase } from "./pool.js";

/** A numbered SQL migration (`NNN_name.sql`). */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));
// Any fixed key works: it only has to be the same for every process migrating these databases.
const MIGRATION_LOCK_KEY = 7_310_421_001;

/** Reads the migrations shipped with the code, in order. */
export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_[a-z0-9_]+\.sql$/.test(f)).sort();
  const migrations = await Promise.all(
    files.map(async (f) => ({
      version: Number.parseInt(f, 10),
      name: f.replace(/\.sql$/, ""),
      sql: await readFile(new URL(f, `file://${dir}`), "utf8"),
    })),
  );
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} is out of sequence`);
  });
  return migrations;
}

/** Refused: the database was migrated by newer code than this. */
export class DatabaseTooNewError extends Error {
  constructor(database: string, found: number, known: number) {
    super(
      `database ${database} is at schema version ${found}, newer than this code knows (${known}); ` +
        "upgrade the gateway before running it against this database",
    );
    this.name = "DatabaseTooNewError";
  }
}

/** Creates the database named in `url` if it is missing and the credentials allow it. */
export async function ensureDatabase(url: string, log: Log): Promise<void> {
  const name = databaseName(url);
  const admin = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  try {
    await admin.connect();
  } catch (err) {
    log.debug({ err }, "cannot reach the maintenance database; assuming the database exists");
    return;
  }
  try {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      log.info({ database: name }, "created database");
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    // 42P04: created concurrently by another process; 42501: not allowed, let connect tell.
    if (code !== "42P04" && code !== "23505" && code !== "42501") throw err;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/**
 * Applies pending migrations in one transaction under an advisory lock, so concurrent
 * `migrate` runs serialize. Refuses a database newer than the code. Returns the version.
 */
export async function migrate(url: string, log: Log, migrations?: Migration[]): Promise<number> {
  const all = migrations ?? (await loadMigrations());
  const latest = all.at(-1)?.version ?? 0;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const current =
      (await client.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations"))
        .rows[0]?.v ?? 0;
    if (current > latest) throw new DatabaseTooNewError(databaseName(url), current, latest);
    for (const m of all.filter((x) => x.version > current)) {
      await client.query(m.sql);
      await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        m.version,
        m.name,
      ]);
      log.info({ database: databaseName(url), migration: m.name }, "applied migration");
    }
    await client.query("COMMIT");
    return latest;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Passwords for the roles `migrate` provisions; an undefined one is left as it is. */
export interface RolePasswords {
  /** For `<context>_app`. */
  app?: string | undefined;
  /** For `sea_gateway`. */
  gateway?: string | undefined;
}

/** Sets a role's password (PostgreSQL stores its SCRAM verifier, never the text). */
async function setPassword(client: pg.Client, role: string, password: string): Promise<void> {
  // ALTER ROLE takes no bind parameters; the literal is escaped, and never logged.
  await client.query(
    `ALTER ROLE ${pg.escapeIdentifier(role)} PASSWORD ${pg.escapeLiteral(password)}`,
  );
}

/**
 * Gives the context its own role (`<context>_app`), reaching only its own database, with a
 * password when one is given. Needs CREATEROLE; without it the step is skipped with a warning
 * (an operator provisions roles).
 */
export async function provisionContextRole(
  url: string,
  context: ContextName,
  log: Log,
  passwords: RolePasswords = {},
): Promise<void> {
  const role = `${context}_app`;
  const db = pg.escapeIdentifier(databaseName(url));
  const r = pg.escapeIdentifier(role);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE ROLE ${r} LOGIN`).catch((err: { code?: string }) => {
        if (err.code !== "42710" && err.code !== "23505") throw err; // created concurrently
      });
    }
    await client.query(`REVOKE CONNECT ON DATABASE ${db} FROM PUBLIC`);
    await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${r}`);
    await client.query(
      `GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO ${r};
       GRANT DELETE ON outbox_unpublished TO ${r};
       REVOKE INSERT, UPDATE ON schema_migrations FROM ${r}`,
    );
    if (passwords.app) await setPassword(client, role, passwords.app);
    await provisionGatewayRole(client, db);
    if (passwords.gateway) await setPassword(client, GATEWAY_ROLE, passwords.gateway);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== "42501") throw err;
    log.warn({ role, context }, "no privilege to provision the context role; skipped");
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The role the gateway connects as: it reaches both contexts' databases, but only this far. */
export const GATEWAY_ROLE = "sea_gateway";

/**
 * The gateway's least privilege in a context database: insert commands into the outbox, mark
 * the rows it dispatched itself as published (delete them from `outbox_unpublished`: the power
 * the former `UPDATE (published_at)` gave), read what a stream lookup and the backlog gauge
 * need, read the schema version for readiness. Nothing of the inbox; no outbox event changed
 * or deleted.
 */
async function provisionGatewayRole(client: pg.Client, db: string): Promise<void> {
  const r = pg.escapeIdentifier(GATEWAY_ROLE);
  const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [GATEWAY_ROLE]);
  if (exists.rowCount === 0) {
    await client.query(`CREATE ROLE ${r} LOGIN`).catch((err: { code?: string }) => {
      if (err.code !== "42710" && err.code !== "23505") throw err;
    });
  }
  await client.query(
    `GRANT CONNECT ON DATABASE ${db} TO ${r};
     GRANT INSERT ON outbox_events, outbox_unpublished TO ${r};
     GRANT SELECT (id, aggregate_type, aggregate_id, tenant_id, event_type, payload, occurred_at)
       ON outbox_events TO ${r};
     GRANT SELECT (id, refused_at), DELETE ON outbox_unpublished TO ${r};
     GRANT SELECT ON schema_migrations TO ${r}`,
  );
}

/** The schema version a database is at (0 when never migrated). */
export async function schemaVersion(pool: pg.Pool): Promise<number> {
  const r = await pool.query<{ v: number | null }>(
    "SELECT max(version) AS v FROM schema_migrations",
  );
  return r.rows[0]?.v ?? 0;
}
