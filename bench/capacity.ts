/**
 * Capacity: paced streams (a model generating: 40 chunks 20 ms apart) at K concurrent clients,
 * a burst (20 chunks at once) at 32 clients with CPU per completion, and latency at 1 client.
 * Each row runs the same load generator against the mock upstream directly and through one
 * `sea-gateway up` process with its defaults (the `openai` handler calling that upstream).
 * `BENCH_TOPOLOGY=split` runs the same defaults as separate processes instead (`gateway`,
 * `relay`, and a `worker` per context): the figures then sum the CPU and RSS of all four.
 */
import { freePort } from "../chaos/lib/free-port.js";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { mintKey } from "../adapters/auth/jwt-verifier.js";
import {
  cpuMeter,
  cpuOf,
  listeningPort,
  peakRss,
  startCli,
  startScript,
  waitReady,
  type Proc,
} from "./lib/processes.js";
import { benchWorld } from "./lib/world.js";

/** What one load-generator run reports. */
export interface LoadResult {
  streams: number;
  errors: number;
  chunks: number;
  wallMs: number;
  durationP50: number;
  durationP99: number;
  ttftP50: number;
  ttftP99: number;
  gapP99: number;
}

/** Runs the load generator in its own process and returns its summary. */
export async function load(opts: {
  baseURL: string;
  key: string;
  model: string;
  clients: number;
  durationMs: number;
  expectChunks: number;
  mode?: "sse" | "ws";
}): Promise<LoadResult> {
  const p = startScript("bench/loadgen.ts", [JSON.stringify({ mode: "sse", ...opts })]);
  p.child.stdin!.end();
  let out = "";
  p.child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  await new Promise((r) => p.child.once("exit", r));
  return JSON.parse(out.trim().split("\n").at(-1)!) as LoadResult;
}

/** How the system under test runs: one `up` process, or one process per role. */
export type Topology = "up" | "split";

/** One line for a report: how the system under test ran. */
export const topologyLine = (topology: Topology) =>
  topology === "up"
    ? "Topology: one `sea-gateway up` process."
    : "Topology: `gateway`, `relay` and a `worker` per context, each its own process.";

/** Starts the system's processes (after migrating, when split); the first one serves HTTP. */
export async function startTopology(
  topology: Topology,
  env: Record<string, string>,
  dist?: string,
  /** Node flags instead of `BENCH_NODE_FLAGS` (a baseline measured with others). */
  nodeFlags?: string[],
): Promise<Proc[]> {
  const cli = (args: string[]) => startCli(args, env, dist, nodeFlags);
  if (topology === "up") return [cli(["up"])];
  const migrate = cli(["migrate"]);
  const [code] = (await once(migrate.child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`migrate exited ${code}`);
  return [
    cli(["gateway"]),
    cli(["relay"]),
    cli(["worker", "--context", "sea"]),
    cli(["worker", "--context", "vibespro"]),
  ];
}

/** How a capacity system is started. */
export interface SystemOptions {
  /** Default: `BENCH_TOPOLOGY`, else one `up` process. */
  topology?: Topology;
  /**
   * `full` (default) warms JIT, pools and keep-alive sockets with 200 paced streams and a burst;
   * `light` with a few streams only, for memory measurements: a full warm-up grows the heap, and
   * what is measured next fits in memory it already holds.
   */
  warmUp?: "full" | "light";
}

/** A running system for the capacity scenarios: mock upstream and the gateway's processes. */
export async function startCapacitySystem(
  extraEnv: Record<string, string> = {},
  opts: SystemOptions = {},
) {
  const topology = opts.topology ?? (process.env.BENCH_TOPOLOGY as Topology | undefined) ?? "up";
  const full = (opts.warmUp ?? "full") === "full";
  const world = benchWorld();
  const upstream = startScript("bench/paced-upstream.ts", ["0"]);
  const upstreamPort = await listeningPort(upstream);
  const catalog = path.join(mkdtempSync(path.join(tmpdir(), "bench-")), "capabilities.yaml");
  writeFileSync(
    catalog,
    "capabilities:\n" +
      "  - {id: paced, context: sea, handler: openai, upstream_model: 'paced:40:20'}\n" +
      "  - {id: burst, context: sea, handler: openai, upstream_model: 'burst:20'}\n" +
      "  - {id: think, context: vibespro, handler: openai, upstream_model: 'think:600000'}\n" +
      "  - {id: sea, context: sea, handler: echo}\n" +
      "  - {id: vibespro, context: vibespro, handler: echo}\n",
  );
  const port = await freePort();
  const procs = await startTopology(topology, {
    ...world.env,
    PORT: String(port),
    CAPABILITIES_FILE: catalog,
    UPSTREAM_OPENAI_BASE_URL: `http://127.0.0.1:${upstreamPort}/v1`,
    ...extraEnv,
  });
  const gateway = procs[0]!;
  await waitReady(`http://127.0.0.1:${port}/health/ready`, gateway);
  const key = await mintKey(world.secret, { tenant: "bench", ttlSecs: 3600 });
  // Warm up (JIT, connection pools, keep-alive sockets) before anything is measured.
  const gatewayURL = `http://127.0.0.1:${port}/v1`;
  await load({
    baseURL: gatewayURL,
    key,
    model: "paced",
    clients: full ? 200 : 4,
    durationMs: full ? 3_000 : 1_000,
    expectChunks: 40,
  });
  await load({
    baseURL: gatewayURL,
    key,
    model: "burst",
    clients: full ? 32 : 4,
    durationMs: full ? 2_000 : 1_000,
    expectChunks: 20,
  });
  return {
    world,
    upstream,
    gateway,
    topology,
    /** Every process of the system under test (one with `up`). */
    pids: procs.map((p) => p.pid),
    directURL: `http://127.0.0.1:${upstreamPort}/v1`,
    gatewayURL,
    key,
    stop: async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await upstream.stop();
      await world.cleanup();
    },
  };
}

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "–");

/** Paced streams at each K: chunks/s, added duration, chunk gaps, errors, peak RSS. */
export async function pacedScenario(
  sys: Awaited<ReturnType<typeof startCapacitySystem>>,
  levels: number[],
  durationMs: number,
): Promise<string[]> {
  const lines = [
    "| K | direct chunks/s | gateway chunks/s | ratio | direct duration p99 (ms) | gateway duration p99 (ms) | added p99 (ms) | gap p99 direct / gateway (ms) | errors (gateway) | streams (gateway) | peak RSS (MiB) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const k of levels) {
    const common = { key: sys.key, clients: k, durationMs, expectChunks: 40 };
    const d = await load({ ...common, baseURL: sys.directURL, model: "paced:40:20" });
    const rss = peakRss(...sys.pids);
    const g = await load({ ...common, baseURL: sys.gatewayURL, model: "paced" });
    const peak = rss.stop();
    const dRate = (d.chunks / d.wallMs) * 1000;
    const gRate = (g.chunks / g.wallMs) * 1000;
    lines.push(
      `| ${k} | ${f(dRate)} | ${f(gRate)} | ${f(gRate / dRate, 2)} | ${f(d.durationP99)} | ${f(g.durationP99)} | ${f(g.durationP99 - d.durationP99)} | ${f(d.gapP99, 1)} / ${f(g.gapP99, 1)} | ${g.errors} | ${g.streams} | ${f(peak)} |`,
    );
    process.stderr.write(`paced K=${k}: ${lines.at(-1)}\n`);
  }
  return lines;
}

/** 20-chunk answers at once, 32 clients: completions/s and CPU per completion. */
export async function burstScenario(
  sys: Awaited<ReturnType<typeof startCapacitySystem>>,
  durationMs: number,
): Promise<string[]> {
  const common = { key: sys.key, clients: 32, durationMs, expectChunks: 20 };
  const d = await load({ ...common, baseURL: sys.directURL, model: "burst:20" });
  const infra = cpuMeter(["postgres", "nats-server"]);
  const before = cpuOf(sys.pids);
  const g = await load({ ...common, baseURL: sys.gatewayURL, model: "burst" });
  const gwCpu = cpuOf(sys.pids) - before;
  const infraCpu = infra.read();
  const dRate = (d.streams / d.wallMs) * 1000;
  const gRate = (g.streams / g.wallMs) * 1000;
  const n = Math.max(1, g.streams - g.errors);
  return [
    "| clients | direct completions/s | gateway completions/s | ratio | gateway CPU per completion (ms) | Postgres + NATS CPU per completion (ms) | all (ms) | errors |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
    `| 32 | ${f(dRate, 1)} | ${f(gRate, 1)} | ${f(gRate / dRate, 2)} | ${f(gwCpu / n, 2)} | ${f(infraCpu / n, 2)} | ${f((gwCpu + infraCpu) / n, 2)} | ${g.errors} |`,
  ];
}

/** One client, one stream at a time: added time to first token. */
export async function latencyScenario(
  sys: Awaited<ReturnType<typeof startCapacitySystem>>,
  durationMs: number,
): Promise<string[]> {
  const common = { key: sys.key, clients: 1, durationMs, expectChunks: 20 };
  const d = await load({ ...common, baseURL: sys.directURL, model: "burst:20" });
  const g = await load({ ...common, baseURL: sys.gatewayURL, model: "burst" });
  return [
    "| clients | direct TTFT p50 / p99 (ms) | gateway TTFT p50 / p99 (ms) | added p50 / p99 (ms) | streams |",
    "|---:|---:|---:|---:|---:|",
    `| 1 | ${f(d.ttftP50, 2)} / ${f(d.ttftP99, 2)} | ${f(g.ttftP50, 2)} / ${f(g.ttftP99, 2)} | ${f(g.ttftP50 - d.ttftP50, 2)} / ${f(g.ttftP99 - d.ttftP99, 2)} | ${g.streams} |`,
  ];
}

async function main(): Promise<void> {
  const levels = (process.env.BENCH_PACED ?? "100,250,500,1000").split(",").map(Number);
  const durationMs = Number(process.env.BENCH_DURATION_MS ?? 6_000);
  const sys = await startCapacitySystem();
  try {
    const out = [
      `# Capacity, ${new Date().toISOString()}, node ${process.version}, BENCH_DURATION_MS=${durationMs}`,
      "",
      topologyLine(sys.topology),
      "",
      ...(await latencyScenario(sys, durationMs)),
      "",
      ...(await burstScenario(sys, durationMs)),
      "",
      ...(await pacedScenario(sys, levels, durationMs)),
    ];
    process.stdout.write(out.join("\n") + "\n");
  } finally {
    await sys.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
