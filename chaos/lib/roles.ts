import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { openSync } from "node:fs";
import path from "node:path";
import { connect } from "nats";
import pg from "pg";
import { CONTEXTS, subjectSpace, type ContextName } from "../../contracts/index.js";
import { freePort } from "./free-port.js";
import { killTree, waitGone } from "./pids.js";

const CLI = path.resolve("dist/bin/sea-gateway.js");

/** One role process of the system under test. */
interface Role {
  name: string;
  args: string[];
  port?: number;
  proc: ChildProcess | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The system under test as separate processes, built from dist/ (`npm run build`): two gateway
 * instances, one relay (both contexts), two workers per context, each logging to its own file.
 * Processes are started, SIGKILLed and restarted by name (`gateway-1`, `relay`,
 * `worker-sea-2`, …), by pid only.
 */
export class Roles {
  private readonly roles: Role[] = [];

  constructor(
    private readonly env: Record<string, string>,
    private readonly logDir: string,
  ) {}

  /** `sea-gateway migrate`: databases, roles, streams, worker consumers. */
  async migrate(): Promise<void> {
    const proc = this.spawnCli("migrate", ["migrate"]);
    const [code] = (await once(proc, "exit")) as [number | null];
    if (code !== 0) throw new Error(`migrate failed (see ${this.logDir}/migrate.log)`);
  }

  /** Starts every role and waits until each is ready. */
  async startAll(): Promise<void> {
    for (const i of [1, 2]) {
      this.roles.push({
        name: `gateway-${i}`,
        args: ["gateway"],
        port: await freePort(),
        proc: null,
      });
    }
    this.roles.push({ name: "relay", args: ["relay"], proc: null });
    for (const ctx of CONTEXTS) {
      for (const i of [1, 2]) {
        this.roles.push({
          name: `worker-${ctx}-${i}`,
          args: ["worker", "--context", ctx],
          proc: null,
        });
      }
    }
    // Workers of one context one after the other: each is ready when the pulls waiting on the
    // shared consumer grow by one.
    const workersOf = (ctx: string) => this.roles.filter((r) => r.args[2] === ctx);
    await Promise.all([
      ...this.roles.filter((r) => r.args[0] !== "worker").map((r) => this.start(r)),
      ...CONTEXTS.map(async (ctx) => {
        for (const r of workersOf(ctx)) await this.start(r);
      }),
    ]);
  }

  /** Base URLs (`…/v1`) of the gateway instances. */
  get gateways(): string[] {
    return this.roles.filter((r) => r.port).map((r) => `http://127.0.0.1:${r.port}/v1`);
  }

  /** SIGKILLs a role's process. */
  async kill(name: string): Promise<void> {
    const r = this.role(name);
    if (!r.proc?.pid) return;
    await waitGone(killTree(r.proc.pid));
    r.proc = null;
  }

  async restart(name: string): Promise<void> {
    await this.start(this.role(name));
  }

  /** SIGTERM to every role (their staged shutdown), SIGKILL after a grace. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.roles.map(async (r) => {
        const pid = r.proc?.pid;
        if (!pid || r.proc!.exitCode !== null) return;
        r.proc!.kill("SIGTERM");
        await waitGone([pid], 8_000).catch(() => killTree(pid));
        r.proc = null;
      }),
    );
  }

  killNow(): void {
    for (const r of this.roles) if (r.proc?.pid) killTree(r.proc.pid);
  }

  private role(name: string): Role {
    const r = this.roles.find((x) => x.name === name);
    if (!r) throw new Error(`no role ${name}`);
    return r;
  }

  private spawnCli(name: string, args: string[], extra: Record<string, string> = {}) {
    const log = openSync(path.join(this.logDir, `${name}.log`), "a");
    return spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/root",
        ...this.env,
        ...extra,
      },
      stdio: ["ignore", log, log],
    });
  }

  private async start(r: Role): Promise<void> {
    const readyBefore =
      r.args[0] === "worker" ? await this.waitingPulls(r.args[2] as ContextName) : 0;
    r.proc = this.spawnCli(r.name, r.args, r.port ? { PORT: String(r.port) } : {});
    const proc = r.proc;
    const until = Date.now() + 60_000;
    const ready = async (): Promise<boolean> => {
      if (r.port) {
        const res = await fetch(`http://127.0.0.1:${r.port}/health/ready`).catch(() => null);
        return res?.status === 200;
      }
      if (r.args[0] === "worker") {
        return (await this.waitingPulls(r.args[2] as ContextName)) > readyBefore;
      }
      return this.relayListening();
    };
    while (!(await ready())) {
      if (proc.exitCode !== null)
        throw new Error(`${r.name} exited (see ${this.logDir}/${r.name}.log)`);
      if (Date.now() > until)
        throw new Error(`${r.name} not ready (see ${this.logDir}/${r.name}.log)`);
      await sleep(100);
    }
  }

  /** Pull requests waiting on a context's worker consumer (each worker keeps one open). */
  private async waitingPulls(ctx: ContextName): Promise<number> {
    const nc = await connect({ servers: this.env.NATS_URL!.split(",") });
    try {
      const subjects = subjectSpace(this.env.NATS_NAMESPACE ?? "");
      const jsm = await nc.jetstreamManager();
      const info = await jsm.consumers.info(
        subjects.commandStream(ctx),
        subjects.workerDurable(ctx),
      );
      return info.num_waiting;
    } finally {
      await nc.close();
    }
  }

  /** The relay listens for outbox notifications on both databases. */
  private async relayListening(): Promise<boolean> {
    for (const url of [this.env.SEA_DATABASE_URL!, this.env.VIBESPRO_DATABASE_URL!]) {
      const c = new pg.Client({ connectionString: url });
      c.on("error", () => undefined);
      try {
        await c.connect();
        const r = await c.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        );
        if (r.rows[0].n < 1) return false;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => undefined);
      }
    }
    return true;
  }
}
