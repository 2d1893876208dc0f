import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdirSync, openSync, readdirSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { killTree, waitGone } from "./pids.js";

/** Debian's PostgreSQL binaries, the newest installed. */
function binDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, "bin", "postgres")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      "the chaos suite needs Debian's PostgreSQL binaries: apt-get install postgresql",
    );
  }
  return path.join(root, versions[0]!, "bin");
}

/** As root, PostgreSQL runs as the `postgres` user (it refuses root). */
function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
  return { uid: id("-u"), gid: id("-g") };
}

/**
 * A PostgreSQL server of the suite's own, on a free loopback port with its data in a temporary
 * directory (trust authentication: loopback only, discarded afterwards). It can be crashed
 * (SIGKILL of the postmaster and every backend, like an OOM kill or a power cut of the process
 * tree) and started again on the same data, which then goes through crash recovery.
 */
export class PrivatePostgres {
  private proc: ChildProcess | null = null;
  private readonly bin = binDir();
  private readonly user = serverUser();

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly logFile: string,
  ) {}

  /** Initialises a cluster in `dir`/pgdata and starts it. */
  static async start(dir: string, port: number): Promise<PrivatePostgres> {
    const dataDir = path.join(dir, "pgdata");
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const p = new PrivatePostgres(dataDir, port, path.join(dir, "postgres.log"));
    if (p.user) {
      chownSync(dir, p.user.uid, p.user.gid);
      chownSync(dataDir, p.user.uid, p.user.gid);
    }
    execFileSync(
      path.join(p.bin, "initdb"),
      [
        `--pgdata=${dataDir}`,
        "--auth=trust",
        "--username=postgres",
        "--encoding=UTF8",
        "--no-locale",
      ],
      { stdio: "ignore", env: { ...process.env, LC_ALL: "C" }, ...(p.user ?? {}) },
    );
    await p.restart();
    return p;
  }

  /** `postgres://postgres@127.0.0.1:<port>/<db>`. */
  url(db = "postgres"): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts the server on its data (after a crash: crash recovery) and waits until it answers. */
  async restart(): Promise<void> {
    const log = openSync(this.logFile, "a");
    this.proc = spawn(
      path.join(this.bin, "postgres"),
      [
        ...["-D", this.dataDir, "-p", String(this.port)],
        ...["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
        // Seven role processes with two pools per database each, and the suite's own checks.
        ...["-c", "max_connections=400", "-c", "lc_messages=C"],
      ],
      { stdio: ["ignore", log, log], detached: true, ...(this.user ?? {}) },
    );
    const until = Date.now() + 60_000;
    for (;;) {
      const c = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1_000 });
      c.on("error", () => undefined);
      try {
        await c.connect();
        await c.query("SELECT 1");
        return;
      } catch (err) {
        if (Date.now() > until || this.proc.exitCode !== null) {
          throw new Error(
            `private PostgreSQL did not start (see ${this.logFile}): ${String(err)}`,
            {
              cause: err,
            },
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        await c.end().catch(() => undefined);
      }
    }
  }

  /**
   * Drops a finished scenario's databases. Crash recovery fsyncs every file of the cluster at
   * start and at its end-of-recovery checkpoint: databases left from earlier scenarios made a
   * PostgreSQL crash take 16 s to recover instead of about 3.
   */
  async dropDatabases(names: string[]): Promise<void> {
    const c = new pg.Client({ connectionString: this.url() });
    c.on("error", () => undefined);
    await c.connect();
    try {
      for (const n of names) await c.query(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
    } finally {
      await c.end();
    }
  }

  /** SIGKILLs the postmaster and all its backends; resolves once they are gone. */
  async crash(): Promise<void> {
    const pid = this.proc?.pid;
    if (!pid) return;
    // Every backend must be gone too before a restart (they hold the shared memory).
    await waitGone(killTree(pid));
    this.proc = null;
  }

  /** Fast shutdown (SIGINT), then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc?.pid || proc.exitCode !== null) return;
    proc.kill("SIGINT");
    await waitGone([proc.pid], 15_000).catch(() => killTree(proc.pid!));
    this.proc = null;
  }

  /** Synchronous last resort when the suite itself exits abruptly. */
  killNow(): void {
    if (this.proc?.pid) killTree(this.proc.pid);
  }
}
