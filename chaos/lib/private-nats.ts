import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync, rmSync } from "node:fs";
import path from "node:path";
import { connect } from "nats";
import { freePort } from "./free-port.js";
import { killTree, waitGone } from "./pids.js";

const BINARY = ["/usr/sbin/nats-server", "/usr/bin/nats-server"].find((p) => existsSync(p));

/** One nats-server of the suite's own. */
interface NatsNode {
  name: string;
  port: number;
  clusterPort: number;
  /** HTTP monitoring port (`/connz`: who is connected to this node). */
  monitorPort: number;
  storeDir: string;
  logFile: string;
  proc: ChildProcess | null;
}

/**
 * A single `nats-server -js`, or a JetStream cluster of three on loopback ports (routes between
 * them, each with its own store and server name), started and stopped by pid. A node can be
 * SIGKILLed and started again on the same store, as a crashed and restarted server would be.
 */
export class PrivateNats {
  private constructor(
    readonly nodes: NatsNode[],
    private readonly clustered: boolean,
  ) {}

  static async start(dir: string, size: 1 | 3): Promise<PrivateNats> {
    if (!BINARY) throw new Error("the chaos suite needs nats-server: apt-get install nats-server");
    const nodes: NatsNode[] = [];
    // Free ports one at a time can repeat (each is closed before the next is asked for): the
    // cluster's client, route and monitoring ports must all differ.
    const taken = new Set<number>();
    const freshPort = async () => {
      for (;;) {
        const p = await freePort();
        if (!taken.has(p)) return (taken.add(p), p);
      }
    };
    for (let i = 1; i <= size; i++) {
      const storeDir = path.join(dir, `nats-n${i}`);
      mkdirSync(storeDir, { recursive: true });
      nodes.push({
        name: `n${i}`,
        port: await freshPort(),
        clusterPort: await freshPort(),
        monitorPort: await freshPort(),
        storeDir,
        logFile: path.join(dir, `nats-n${i}.log`),
        proc: null,
      });
    }
    const nats = new PrivateNats(nodes, size > 1);
    try {
      for (const n of nodes) nats.spawn(n);
      for (const n of nodes) await nats.waitListening(n);
      await nats.waitJetStream();
    } catch (err) {
      // One node failing to start must not leave the others running.
      nats.killNow();
      throw err;
    }
    return nats;
  }

  /** Every node's client URL, comma-separated (the NATS_URL seed list). */
  get url(): string {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.port}`).join(",");
  }

  /** SIGKILLs the node named `name` (n1, n2, …). */
  async kill(name: string): Promise<void> {
    const n = this.node(name);
    if (!n.proc?.pid) return;
    await waitGone(killTree(n.proc.pid));
    n.proc = null;
  }

  /** Starts the node again on its store and waits until it takes connections. */
  async restart(name: string): Promise<void> {
    const n = this.node(name);
    this.spawn(n);
    await this.waitListening(n);
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) {
      const pid = n.proc?.pid;
      if (!pid || n.proc!.exitCode !== null) {
        n.proc = null;
        continue;
      }
      n.proc!.kill("SIGTERM");
      await waitGone([pid], 10_000).catch(() => killTree(pid));
      n.proc = null;
    }
  }

  /** Deletes the stores of stopped nodes (their logs stay). */
  removeStores(): void {
    for (const n of this.nodes) if (!n.proc) rmSync(n.storeDir, { recursive: true, force: true });
  }

  /** The running node with the most client connections named `connName` (null: none has one). */
  async nodeWithMost(connName: string): Promise<string | null> {
    let best: { name: string; count: number } | null = null;
    for (const n of this.nodes) {
      if (!n.proc) continue;
      const res = await fetch(`http://127.0.0.1:${n.monitorPort}/connz?limit=4096`);
      const body = (await res.json()) as { connections?: { name?: string }[] };
      const count = (body.connections ?? []).filter((c) => c.name === connName).length;
      if (count > 0 && (!best || count > best.count)) best = { name: n.name, count };
    }
    return best?.name ?? null;
  }

  /** Synchronous last resort when the suite itself exits abruptly. */
  killNow(): void {
    for (const n of this.nodes) if (n.proc?.pid) killTree(n.proc.pid);
  }

  private node(name: string): NatsNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no nats node ${name}`);
    return n;
  }

  private spawn(n: NatsNode): void {
    const routes = this.nodes
      .filter((o) => o !== n)
      .map((o) => `nats://127.0.0.1:${o.clusterPort}`)
      .join(",");
    const args = [
      ...["-a", "127.0.0.1", "-p", String(n.port), "-js", "-sd", n.storeDir],
      ...["--server_name", n.name, "-m", String(n.monitorPort)],
      ...(this.clustered
        ? [
            ...["--cluster", `nats://127.0.0.1:${n.clusterPort}`],
            ...["--routes", routes, "--cluster_name", "chaos"],
          ]
        : []),
    ];
    const log = openSync(n.logFile, "a");
    n.proc = spawn(BINARY!, args, { stdio: ["ignore", log, log], detached: true });
  }

  private async waitListening(n: NatsNode): Promise<void> {
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        const nc = await connect({ servers: `nats://127.0.0.1:${n.port}`, reconnect: false });
        await nc.close();
        return;
      } catch (err) {
        if (Date.now() > until || (n.proc && n.proc.exitCode !== null)) {
          throw new Error(
            `private nats-server ${n.name} did not start (see ${n.logFile}): ${String(err)}`,
            { cause: err },
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** JetStream answers (on a cluster: a meta leader is elected). */
  private async waitJetStream(): Promise<void> {
    const nc = await connect({ servers: this.nodes.map((n) => `nats://127.0.0.1:${n.port}`) });
    try {
      const until = Date.now() + 30_000;
      for (;;) {
        try {
          const jsm = await nc.jetstreamManager({ timeout: 2_000 });
          await jsm.getAccountInfo();
          return;
        } catch (err) {
          if (Date.now() > until)
            throw new Error(`JetStream did not come up: ${String(err)}`, { cause: err });
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    } finally {
      await nc.close();
    }
  }
}
