/**
 * Idle streams: N open SSE streams, or N WebSocket subscriptions (a chat started on each socket),
 * with a model thinking for minutes, held by one gateway process, with the worker and relay in
 * processes of their own; reports the gateway's RSS and what the N added to it.
 * `BENCH_IDLE` sets N (default 10,000); `BENCH_IDLE_MODES` the surfaces (`sse,ws`). With
 * `BENCH_IDLE_BASELINE_DIST` (another build, as for `bench/cpu.ts`) each surface is measured
 * `BENCH_REPEATS` times (default 3) on this build and on the baseline, interleaved, one system
 * each time: RSS moves by tens of MiB from run to run, so only paired runs compare builds.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../chaos/lib/free-port.js";
import { mintKey } from "../adapters/auth/jwt-verifier.js";
import { startTopology } from "./capacity.js";
import { idleScenario } from "./streams.js";
import { listeningPort, startScript, waitReady, type Proc } from "./lib/processes.js";
import { benchWorld } from "./lib/world.js";

/** What N idle streams (or subscriptions) added to one gateway process, on `dist`'s build. */
async function idleRun(n: number, mode: "sse" | "ws", dist?: string) {
  const world = benchWorld();
  const procs: Proc[] = [];
  try {
    const upstream = startScript("bench/paced-upstream.ts", ["0"]);
    procs.push(upstream);
    const upstreamPort = await listeningPort(upstream);
    const catalog = path.join(mkdtempSync(path.join(tmpdir(), "bench-idle-")), "catalog.yaml");
    writeFileSync(
      catalog,
      "capabilities:\n" +
        "  - {id: think, context: vibespro, handler: openai, upstream_model: 'think:600000'}\n" +
        "  - {id: sea, context: sea, handler: echo}\n",
    );
    const port = await freePort();
    const env = {
      ...world.env,
      CAPABILITIES_FILE: catalog,
      UPSTREAM_OPENAI_BASE_URL: `http://127.0.0.1:${upstreamPort}/v1`,
      PORT: String(port),
      MAX_INFLIGHT: String(n + 1000),
    };
    const roles = await startTopology("split", env, dist);
    procs.push(...roles);
    const gateway = roles[0]!;
    await waitReady(`http://127.0.0.1:${port}/health/ready`, gateway);
    const sys = {
      gatewayURL: `http://127.0.0.1:${port}/v1`,
      key: await mintKey(world.secret, { tenant: "bench", ttlSecs: 3600 }),
      gateway,
    };
    return await idleScenario(sys as never, n, mode, gateway.pid);
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await world.cleanup();
  }
}

export async function idleStreams(n: number, mode: "sse" | "ws" = "sse"): Promise<string[]> {
  const r = await idleRun(n, mode);
  const what = mode === "sse" ? "idle SSE streams" : "idle WebSocket subscriptions";
  return [
    `| ${what} on one gateway process | open | memory per stream (KiB) | added RSS (MiB) | gateway RSS (MiB) |`,
    "|---:|---:|---:|---:|---:|",
    `| ${n} | ${r.open} | ${r.perStreamKb.toFixed(1)} | ${r.addedMb.toFixed(0)} | ${r.rssMb.toFixed(0)} |`,
  ];
}

/** This build against `baseline`, `repeats` interleaved runs per surface: one table row each. */
async function pairedRuns(
  n: number,
  modes: ("sse" | "ws")[],
  baseline: string,
  repeats: number,
): Promise<string[]> {
  const added = async (mode: "sse" | "ws", dist?: string) => {
    const r = await idleRun(n, mode, dist);
    return `${r.addedMb.toFixed(0)} (${r.open} open)`;
  };
  const out = [
    `| surface (${n} idle, one gateway process) | run | added RSS, this build (MiB) | added RSS, baseline (MiB) |`,
    "|---|---:|---:|---:|",
  ];
  for (const mode of modes) {
    for (let run = 1; run <= repeats; run++) {
      const mine = await added(mode);
      const base = await added(mode, baseline);
      out.push(`| ${mode} | ${run} | ${mine} | ${base} |`);
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.env.BENCH_IDLE ?? 10_000);
  const modes = (process.env.BENCH_IDLE_MODES ?? "sse,ws").split(",") as ("sse" | "ws")[];
  const baseline = process.env.BENCH_IDLE_BASELINE_DIST;
  const report = baseline
    ? pairedRuns(n, modes, baseline, Number(process.env.BENCH_REPEATS ?? 3))
    : modes.reduce<Promise<string[]>>(
        async (acc, mode) => [...(await acc), ...(await idleStreams(n, mode)), ""],
        Promise.resolve([]),
      );
  report
    .then((lines) => process.stdout.write(lines.join("\n") + "\n"))
    .catch((err: unknown) => {
      process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    });
}
