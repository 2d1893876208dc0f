/**
 * `npm run soak`: steady load for a long while (default 10 minutes of paced streams at K=200 on
 * one `up` process), sampling what would grow if something leaked: the gateway's RSS, its
 * active handles and timers (from its own /metrics), Postgres connections to its databases, and
 * — on a NATS server of the soak's own, started with a monitoring port — subscriptions,
 * connections and JetStream consumers. Writes bench/last-soak.md.
 *
 * SOAK_MINUTES (default 10), SOAK_CLIENTS (default 200).
 */
import { freePort } from "../chaos/lib/free-port.js";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { load, startCapacitySystem } from "./capacity.js";
import { rssMb, waitReady, type Proc } from "./lib/processes.js";
import { PG } from "./lib/world.js";

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 200);
const SAMPLE_EVERY_MS = Math.min(30_000, (MINUTES * 60_000) / 10);

interface Sample {
  atS: number;
  rssMb: number;
  handles: number;
  timers: number;
  pgConnections: number;
  natsSubscriptions: number;
  natsConnections: number;
  consumers: number;
}

/** A nats-server with JetStream and a monitoring port, on ports of its own. */
async function privateNats(): Promise<{ url: string; monitor: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), "soak-nats-"));
  const port = await freePort();
  const monitor = port + 1000;
  const child = spawn(
    "nats-server",
    ["-a", "127.0.0.1", "-p", String(port), "-m", String(monitor), "-js", "-sd", dir],
    { stdio: "ignore" },
  );
  const proc = { child, pid: child.pid!, stop: async () => {} } as Proc;
  await waitReady(`http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`, proc);
  return {
    url: `nats://127.0.0.1:${port}`,
    monitor: `http://127.0.0.1:${monitor}`,
    stop: async () => {
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The value of one sample of a Prometheus metric in an exposition, summed over its labels. */
function metric(text: string, name: string, label = ""): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(name) && line.includes(label) && !line.startsWith("#")) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function json(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url)).json()) as Record<string, unknown>;
}

async function sample(
  startedAt: number,
  pid: number,
  gatewayURL: string,
  monitor: string,
  ns: string,
): Promise<Sample> {
  const metrics = await (await fetch(gatewayURL.replace(/\/v1$/, "/metrics"))).text();
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  const { rows } = await admin.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname LIKE $1",
    [`${ns}\\_%`],
  );
  await admin.end();
  const subsz = await json(`${monitor}/subsz`);
  const varz = await json(`${monitor}/varz`);
  const jsz = await json(`${monitor}/jsz`);
  return {
    atS: Math.round((performance.now() - startedAt) / 1000),
    rssMb: rssMb(pid),
    handles: metric(metrics, "nodejs_active_handles_total"),
    timers: metric(metrics, "nodejs_active_resources{", 'type="Timeout"'),
    pgConnections: Number(rows[0]!.n),
    natsSubscriptions: Number(subsz.num_subscriptions),
    natsConnections: Number(varz.connections),
    consumers: Number(jsz.consumers),
  };
}

async function main(): Promise<void> {
  const nats = await privateNats();
  const sys = await startCapacitySystem({ NATS_URL: nats.url });
  try {
    const startedAt = performance.now();
    const ns = sys.world.ns;
    const take = () => sample(startedAt, sys.gateway.pid, sys.gatewayURL, nats.monitor, ns);
    const idleBefore = await take();
    const samples: Sample[] = [];
    const running = load({
      baseURL: sys.gatewayURL,
      key: sys.key,
      model: "paced",
      clients: CLIENTS,
      durationMs: MINUTES * 60_000,
      expectChunks: 40,
    });
    let finished = false;
    void running.finally(() => (finished = true));
    while (!finished) {
      await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
      if (finished) break;
      samples.push(await take());
      process.stderr.write(`soak: ${JSON.stringify(samples.at(-1))}\n`);
    }
    const result = await running;
    await new Promise((r) => setTimeout(r, 10_000));
    const idleAfter = await take();
    // RSS swings with garbage collection, so growth compares medians: the first third of the
    // samples under load (after the first, while caches, JIT and pools fill) with the last third.
    const third = Math.max(1, Math.floor(samples.length / 3));
    const early = median(samples.slice(1, 1 + third).map((s) => s.rssMb));
    const late = median(samples.slice(-third).map((s) => s.rssMb));
    const growth = ((late - early) / early) * 100;
    const row = (label: string, s: Sample) =>
      `| ${label} | ${s.atS} | ${s.rssMb.toFixed(0)} | ${s.handles} | ${s.timers} | ${s.pgConnections} | ${s.natsConnections} | ${s.natsSubscriptions} | ${s.consumers} |`;
    const md = [
      `Soak: ${CLIENTS} paced streams (40 chunks × 20 ms) held for ${MINUTES} min on one \`up\` process; ${new Date().toISOString()}; node ${process.version}.`,
      `Streams: ${result.streams}, errors: ${result.errors}, chunk gap p99 ${result.gapP99.toFixed(1)} ms. ` +
        `RSS under load, median of the first third of samples ${early.toFixed(0)} MiB, of the last third ${late.toFixed(0)} MiB: growth ${growth.toFixed(1)} %.`,
      "",
      "| sample | at (s) | gateway RSS (MiB) | active handles | timers | Postgres connections | NATS connections | NATS subscriptions | JetStream consumers |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
      row("idle, before", idleBefore),
      ...samples.map((s, i) => row(`load ${i + 1}`, s)),
      row("idle, after", idleAfter),
    ].join("\n");
    process.stdout.write(md + "\n");
    writeFileSync("bench/last-soak.md", md + "\n");
  } finally {
    await sys.stop();
    await nats.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
