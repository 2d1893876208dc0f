/**
 * CPU per unit of work (issue 21): the gateway's durable path side by side with a plain Node
 * pass-through proxy (bench/plain-proxy.ts) and the mock upstream called directly, interleaved in
 * one run, `BENCH_REPEATS` times so the spread shows:
 *
 * - paced streams (40 chunks × 20 ms) at each K of `BENCH_CPU_PACED`: CPU per delivered chunk;
 * - a burst (20 chunks at once) at 32 clients: CPU per completion;
 * - one client: added time to first token against the direct mock, and CPU per completion.
 *
 * The gateway path's CPU is every process on it: the gateway's roles (one `up` process, or with
 * the split topology `gateway`, `relay` and the workers, each counted on its own), a PRIVATE
 * nats-server this bench starts on its own port (so nobody else's traffic is counted) and the
 * Postgres backends of the bench's own databases. The load generator and the mock are never
 * counted. `BENCH_CPU_TOPOLOGIES` (default `up,split`) says which topologies run.
 *
 * `BENCH_CPU_BASELINE_DIST` names another build (e.g. main's, built in a copy of the repository):
 * its gateway path is then measured too, on a system of its own, interleaved with this build's
 * in every run, and the tables show both and their ratio (before/after a change, on one machine
 * state).
 *
 * `BENCH_CPU_DURATION_MS` (default 4000) is each measurement's length. `BENCH_NODE_FLAGS` as in
 * bench/lib/processes.ts. Writes bench/last-cpu.md (`BENCH_CPU_OUT` overrides).
 */
import { freePort } from "../chaos/lib/free-port.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { mintKey } from "../adapters/auth/jwt-verifier.js";
import { PrivateNats } from "../chaos/lib/private-nats.js";
import { startTopology, type LoadResult, type Topology } from "./capacity.js";
import { pathCpuMeter, type CpuBySet } from "./lib/path-cpu.js";
import { listeningPort, startScript, waitReady, type Proc } from "./lib/processes.js";
import { benchWorld, PG } from "./lib/world.js";

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const DURATION_MS = Number(process.env.BENCH_CPU_DURATION_MS ?? 4_000);
const PACED = (process.env.BENCH_CPU_PACED ?? "100,250").split(",").map(Number);
const TOPOLOGIES = (process.env.BENCH_CPU_TOPOLOGIES ?? "up,split").split(",") as Topology[];
const BASELINE_DIST = process.env.BENCH_CPU_BASELINE_DIST;
/**
 * Settings the baseline system runs with (`K=V K=V`), e.g. `LOCAL_LIVE_DELIVERY=false` to
 * measure one lever of this build against the same build without it.
 */
const BASELINE_ENV = Object.fromEntries(
  (process.env.BENCH_CPU_BASELINE_ENV ?? "")
    .split(" ")
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
) as Record<string, string>;
/** Node flags the baseline system runs with instead of `BENCH_NODE_FLAGS`. */
const BASELINE_NODE_FLAGS = process.env.BENCH_CPU_BASELINE_NODE_FLAGS?.split(" ").filter(Boolean);
/** Only the scenarios whose names start with one of these (e.g. `paced,c=1`); all by default. */
const ONLY = process.env.BENCH_CPU_SCENARIOS?.split(",").filter(Boolean);

type Target = "direct" | "proxy" | "gateway";

/** A scenario: how many clients, which answer, and the unit CPU is divided by. */
interface Scenario {
  name: string;
  clients: number;
  /** The mock's model name (direct and proxy); the gateway's capability names the same. */
  upstreamModel: string;
  capability: string;
  expectChunks: number;
  unit: "chunk" | "completion";
}

const allScenarios: Scenario[] = [
  ...PACED.map((k): Scenario => ({
    name: `paced K=${k}`,
    clients: k,
    upstreamModel: "paced:40:20",
    capability: "paced",
    expectChunks: 40,
    unit: "chunk",
  })),
  {
    name: "burst c=32",
    clients: 32,
    upstreamModel: "burst:20",
    capability: "burst",
    expectChunks: 20,
    unit: "completion",
  },
  {
    name: "c=1",
    clients: 1,
    upstreamModel: "burst:20",
    capability: "burst",
    expectChunks: 20,
    unit: "completion",
  },
];

const scenarios = allScenarios.filter((s) => !ONLY || ONLY.some((p) => s.name.startsWith(p)));

/** The mock upstream, the plain proxy in front of it, private NATS and the gateway's roles. */
async function startCpuSystem(
  topology: Topology,
  dist?: string,
  env: Record<string, string> = {},
  nodeFlags?: string[],
) {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-cpu-"));
  const nats = await PrivateNats.start(dir, 1);
  const world = benchWorld(nats.url);
  const procs: Proc[] = [];
  try {
    const upstream = startScript("bench/paced-upstream.ts", ["0"]);
    procs.push(upstream);
    const upstreamPort = await listeningPort(upstream);
    const proxy = startScript("bench/plain-proxy.ts", [`http://127.0.0.1:${upstreamPort}`]);
    procs.push(proxy);
    const proxyPort = await listeningPort(proxy);
    const catalog = path.join(dir, "capabilities.yaml");
    writeFileSync(
      catalog,
      "capabilities:\n" +
        "  - {id: paced, context: sea, handler: openai, upstream_model: 'paced:40:20'}\n" +
        "  - {id: burst, context: sea, handler: openai, upstream_model: 'burst:20'}\n" +
        "  - {id: sea, context: sea, handler: echo}\n" +
        "  - {id: vibespro, context: vibespro, handler: echo}\n",
    );
    const port = await freePort();
    const roles = await startTopology(
      topology,
      {
        ...world.env,
        PORT: String(port),
        CAPABILITIES_FILE: catalog,
        UPSTREAM_OPENAI_BASE_URL: `http://127.0.0.1:${upstreamPort}/v1`,
        ...env,
      },
      dist,
      nodeFlags,
    );
    procs.push(...roles);
    await waitReady(`http://127.0.0.1:${port}/health/ready`, roles[0]!);
    const natsPid = nats.nodes[0]!.proc!.pid!;
    const roleSets: Record<string, number[]> =
      topology === "up"
        ? { up: [roles[0]!.pid] }
        : {
            gateway: [roles[0]!.pid],
            relay: [roles[1]!.pid],
            worker: [roles[2]!.pid, roles[3]!.pid],
          };
    return {
      topology,
      key: await mintKey(world.secret, { tenant: "bench", ttlSecs: 3600 }),
      urls: {
        direct: `http://127.0.0.1:${upstreamPort}/v1`,
        proxy: `http://127.0.0.1:${proxyPort}/v1`,
        gateway: `http://127.0.0.1:${port}/v1`,
      } as Record<Target, string>,
      sets: {
        direct: {},
        proxy: { proxy: [proxy.pid] },
        gateway: { ...roleSets, nats: [natsPid] },
      } as Record<Target, Record<string, number[]>>,
      databases: world.databases,
      stop: async () => {
        for (const p of procs.reverse()) await p.stop();
        await world.cleanup().catch(() => undefined);
        await nats.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const p of procs.reverse()) await p.stop();
    await nats.stop();
    throw err;
  }
}
type CpuSystem = Awaited<ReturnType<typeof startCpuSystem>>;

/** A measurement: the load, the CPU per process set, and the sets' write system calls. */
interface Measured {
  load: LoadResult;
  cpu: CpuBySet;
  writes: number;
}

/** One measurement: the load generator against `target`, CPU of the target's path meanwhile. */
async function measure(
  sys: CpuSystem,
  target: Target,
  s: Scenario,
  durationMs = DURATION_MS,
): Promise<Measured> {
  const meter = pathCpuMeter({
    sets: sys.sets[target],
    pg: target === "gateway" ? { url: PG, databases: sys.databases } : undefined,
  });
  await meter.open();
  try {
    const p = startScript("bench/loadgen.ts", [
      JSON.stringify({
        mode: "sse",
        baseURL: sys.urls[target],
        key: sys.key,
        model: target === "gateway" ? s.capability : s.upstreamModel,
        clients: s.clients,
        durationMs,
        expectChunks: s.expectChunks,
      }),
    ]);
    p.child.stdin!.end();
    let out = "";
    let started: Promise<void> | null = null;
    // Set from the output handler (a holder: TypeScript cannot see a callback assign a local).
    const window: { cpu?: Promise<{ cpu: CpuBySet; writes: number }> } = {};
    p.child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (!started && out.includes("start\n")) started = meter.start();
      if (started && !window.cpu && out.trimEnd().endsWith("}")) {
        window.cpu = started.then(() => meter.stop());
      }
    });
    await new Promise((r) => p.child.once("exit", r));
    if (!window.cpu) throw new Error(`load generator failed: ${out}`);
    const measured = await window.cpu;
    return { load: JSON.parse(out.trim().split("\n").at(-1)!) as LoadResult, ...measured };
  } finally {
    await meter.close();
  }
}

const sum = (c: CpuBySet) => Object.values(c).reduce((a, b) => a + b, 0);
const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "–");

/** Per unit: µs per chunk, or ms per completion. */
function perUnit(cpuMs: number, r: LoadResult, unit: Scenario["unit"]): number {
  const ok = r.streams - r.errors;
  return unit === "chunk" ? (cpuMs * 1000) / Math.max(1, r.chunks) : cpuMs / Math.max(1, ok);
}

/** A count (write system calls) per chunk or per completion. */
function perCount(n: number, r: LoadResult, unit: Scenario["unit"]): number {
  return n / Math.max(1, unit === "chunk" ? r.chunks : r.streams - r.errors);
}

/** One row of results: a scenario's direct, proxy and gateway measurements in one repeat. */
interface Row {
  scenario: Scenario;
  run: number;
  direct: LoadResult;
  proxy: Measured;
  gateway: Measured;
  /** The baseline build's gateway path (with `BENCH_CPU_BASELINE_DIST`). */
  baseline?: Measured;
}

async function warmUp(sys: CpuSystem): Promise<void> {
  for (const target of ["proxy", "gateway"] as Target[]) {
    await measure(sys, target, allScenarios[0]!, 2_000);
    await measure(
      sys,
      target,
      allScenarios.find((s) => s.name.startsWith("burst"))!,
      1_500,
    );
  }
}

async function runTopology(topology: Topology): Promise<Row[]> {
  const sys = await startCpuSystem(topology);
  const base =
    BASELINE_DIST || process.env.BENCH_CPU_BASELINE_ENV || BASELINE_NODE_FLAGS
      ? await startCpuSystem(topology, BASELINE_DIST, BASELINE_ENV, BASELINE_NODE_FLAGS)
      : null;
  const rows: Row[] = [];
  try {
    await warmUp(sys);
    if (base) await warmUp(base);
    for (let run = 1; run <= REPEATS; run++) {
      for (const s of scenarios) {
        const direct = (await measure(sys, "direct", s)).load;
        const proxy = await measure(sys, "proxy", s);
        // Which build goes first alternates, so neither always follows the other's load.
        const first = run % 2 === 1 || !base;
        const baseline0 = !first && base ? await measure(base, "gateway", s) : undefined;
        const gateway = await measure(sys, "gateway", s);
        const baseline = baseline0 ?? (base ? await measure(base, "gateway", s) : undefined);
        rows.push({ scenario: s, run, direct, proxy, gateway, ...(baseline ? { baseline } : {}) });
        process.stderr.write(
          `${topology} ${s.name} run ${run}: proxy ${f(perUnit(sum(proxy.cpu), proxy.load, s.unit), 2)}, ` +
            `gateway ${f(perUnit(sum(gateway.cpu), gateway.load, s.unit), 2)} ${JSON.stringify(gateway.cpu)} ` +
            `errors ${gateway.load.errors}/${gateway.load.streams}\n`,
        );
      }
    }
  } finally {
    await sys.stop();
    await base?.stop();
  }
  return rows;
}

const unitLabel = (s: Scenario) =>
  s.unit === "chunk" ? "µs CPU per chunk" : "ms CPU per completion";
const spread = (xs: number[], d: number) =>
  xs.length === 0 ? "–" : `${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)}`;

/** Tables for one topology: every run's row, then the spread per scenario. */
function report(topology: Topology, rows: Row[]): string[] {
  const hasBase = rows.some((r) => r.baseline);
  const roles = topology === "up" ? ["up"] : ["gateway", "relay", "worker"];
  const parts = [...roles, "nats", "postgres"];
  // The baseline's split too: a lever shows in its own part (Postgres, NATS) well before the
  // total, whose run-to-run spread is wider.
  const baseHead = hasBase
    ? ` baseline build's path | this build / baseline | baseline's ${parts.join(" / ")} |`
    : "";
  const baseRule = hasBase ? "---:|---:|---:|" : "";
  const baseCells = (r: Row, d: number) => {
    if (!r.baseline) return "";
    const b = perUnit(sum(r.baseline.cpu), r.baseline.load, r.scenario.unit);
    const g = perUnit(sum(r.gateway.cpu), r.gateway.load, r.scenario.unit);
    const split = parts.map((k) =>
      f(perUnit(r.baseline!.cpu[k] ?? 0, r.baseline!.load, r.scenario.unit), d),
    );
    return ` ${f(b, d)} | ${f(g / b, 2)} | ${split.join(" / ")} |`;
  };
  const out = [
    `### Topology \`${topology}\`: ${topology === "up" ? "one `sea-gateway up` process" : "`gateway`, `relay`, a `worker` per context, each its own process"}, private nats-server`,
    "",
    `| scenario | run | unit | proxy | gateway path | ratio |${baseHead} ${parts.join(" | ")} | write syscalls per unit: proxy / gateway roles + NATS | chunks (gateway) | errors gateway / proxy |`,
    `|---|---:|---|---:|---:|---:|${baseRule}${parts.map(() => "---:|").join("")}---:|---:|---:|`,
  ];
  for (const r of rows) {
    const d = r.scenario.unit === "chunk" ? 0 : 3;
    const p = perUnit(sum(r.proxy.cpu), r.proxy.load, r.scenario.unit);
    const g = perUnit(sum(r.gateway.cpu), r.gateway.load, r.scenario.unit);
    const each = parts.map((k) =>
      f(perUnit(r.gateway.cpu[k] ?? 0, r.gateway.load, r.scenario.unit), d),
    );
    out.push(
      `| ${r.scenario.name} | ${r.run} | ${unitLabel(r.scenario)} | ${f(p, d)} | ${f(g, d)} | ${f(g / p, 2)}× |${baseCells(r, d)} ${each.join(" | ")} | ${f(perCount(r.proxy.writes, r.proxy.load, r.scenario.unit), 2)} / ${f(perCount(r.gateway.writes, r.gateway.load, r.scenario.unit), 2)} | ${r.gateway.load.chunks} | ${r.gateway.load.errors} / ${r.proxy.load.errors} |`,
    );
  }
  out.push(
    "",
    `| scenario (${rows.length ? Math.max(...rows.map((r) => r.run)) : 0} runs, min–max) | unit | proxy | gateway path | ratio |${baseHead} ${parts.join(" | ")} |`,
    `|---|---|---:|---:|---:|${baseRule}${parts.map(() => "---:|").join("")}`,
  );
  for (const s of scenarios) {
    const rs = rows.filter((r) => r.scenario === s);
    const d = s.unit === "chunk" ? 0 : 3;
    const p = rs.map((r) => perUnit(sum(r.proxy.cpu), r.proxy.load, s.unit));
    const g = rs.map((r) => perUnit(sum(r.gateway.cpu), r.gateway.load, s.unit));
    const each = parts.map((k) =>
      spread(
        rs.map((r) => perUnit(r.gateway.cpu[k] ?? 0, r.gateway.load, s.unit)),
        d,
      ),
    );
    const withBase = rs.filter((r) => r.baseline);
    const b = withBase.map((r) => perUnit(sum(r.baseline!.cpu), r.baseline!.load, s.unit));
    const bg = withBase.map((r) => perUnit(sum(r.gateway.cpu), r.gateway.load, s.unit));
    const baseSplit = parts.map((k) =>
      spread(
        withBase.map((r) => perUnit(r.baseline!.cpu[k] ?? 0, r.baseline!.load, s.unit)),
        d,
      ),
    );
    const baseSpread = hasBase
      ? ` ${spread(b, d)} | ${spread(
          bg.map((x, i) => x / b[i]!),
          2,
        )} | ${baseSplit.join(" / ")} |`
      : "";
    out.push(
      `| ${s.name} | ${unitLabel(s)} | ${spread(p, d)} | ${spread(g, d)} | ${spread(
        g.map((x, i) => x / p[i]!),
        2,
      )}× |${baseSpread} ${each.join(" | ")} |`,
    );
  }
  const c1 = rows.filter((r) => r.scenario.clients === 1);
  const added = (load: LoadResult, r: Row) =>
    `${f(load.ttftP50 - r.direct.ttftP50, 2)} / ${f(load.ttftP99 - r.direct.ttftP99, 2)}`;
  const withBase = c1.some((r) => r.baseline);
  out.push(
    "",
    `| c=1 run | direct TTFT p50 / p99 (ms) | proxy added p50 / p99 (ms) | gateway added p50 / p99 (ms) |${withBase ? " baseline added p50 / p99 (ms) |" : ""} gateway streams |`,
    `|---:|---:|---:|---:|${withBase ? "---:|" : ""}---:|`,
    ...c1.map(
      (r) =>
        `| ${r.run} | ${f(r.direct.ttftP50, 2)} / ${f(r.direct.ttftP99, 2)} | ${added(r.proxy.load, r)} | ${added(r.gateway.load, r)} |${withBase ? ` ${r.baseline ? added(r.baseline.load, r) : ""} |` : ""} ${r.gateway.load.streams} |`,
    ),
  );
  return out;
}

/** The whole CPU report, every topology of `BENCH_CPU_TOPOLOGIES`. */
export async function cpuReport(): Promise<string[]> {
  const out: string[] = [];
  for (const t of TOPOLOGIES) out.push(...report(t, await runTopology(t)), "");
  return out;
}

async function main(): Promise<void> {
  const cpu = os.cpus();
  const text = [
    `# CPU per unit of work, ${new Date().toISOString()}`,
    "",
    `Machine: ${cpu.length} × ${cpu[0]?.model ?? "?"}, load average at start ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}; node ${process.version}; ${DURATION_MS} ms per measurement, ${REPEATS} runs, ` +
      "direct, proxy and gateway interleaved in each run. CPU from /proc (utime + stime) of the " +
      "processes on each path; the load generator's and the mock upstream's never counted.",
    "",
    ...(await cpuReport()),
  ].join("\n");
  process.stdout.write(text + "\n");
  writeFileSync(process.env.BENCH_CPU_OUT ?? "bench/last-cpu.md", text + "\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
