/**
 * `npm run bench`: the gateway side by side with the same load against the mock upstream
 * directly, in the same run, on real Postgres and NATS. Runs the capacity scenarios (latency at
 * one client, a burst at 32, paced streams at K clients) `BENCH_REPEATS` times each so the spread
 * shows, then streams as resources (resume, WebSocket against SSE, idle memory) and 10,000 idle
 * SSE streams and 10,000 idle WebSocket subscriptions on one gateway process. Writes
 * bench/last-run.md. `npm run bench` runs bench/cpu.ts (CPU per unit of work against a plain
 * proxy) before it.
 *
 * BENCH_TOPOLOGY=split runs the capacity scenarios on one process per role instead of `up`.
 * BENCH_REPEATS (default 3), BENCH_PACED (default 100,250,500,1000), BENCH_DURATION_MS (default
 * 6000 per measurement), BENCH_RESUMES (default 100), BENCH_IDLE (default 10000; 0 skips).
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import {
  burstScenario,
  latencyScenario,
  pacedScenario,
  startCapacitySystem,
  topologyLine,
} from "./capacity.js";
import { idleStreams } from "./idle.js";
import { streamsReport } from "./streams.js";

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const LEVELS = (process.env.BENCH_PACED ?? "100,250,500,1000").split(",").map(Number);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 6_000);
const RESUMES = Number(process.env.BENCH_RESUMES ?? 100);
const IDLE = Number(process.env.BENCH_IDLE ?? 10_000);

/** Runs a scenario `REPEATS` times; one table: the first run's header, every run's rows. */
async function repeated(scenario: () => Promise<string[]>): Promise<string[]> {
  const rows: string[] = [];
  let header: string[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const lines = await scenario();
    header = lines.slice(0, 2);
    rows.push(...lines.slice(2));
  }
  return [...header, ...rows];
}

async function main(): Promise<void> {
  const cpu = os.cpus();
  const md: string[] = [
    `# Benchmark run, ${new Date().toISOString()}`,
    "",
    `Machine: ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
      `load average at start ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}; node ${process.version}. The load generator, the mock upstream, Postgres ` +
      `and NATS share the machine with the gateway. Each measurement lasts ${DURATION_MS} ms; ` +
      `each capacity row is repeated ${REPEATS} times (one row per run) to show the spread.`,
    "",
  ];
  const sys = await startCapacitySystem();
  if (sys.topology === "split") md.push(topologyLine(sys.topology), "");
  try {
    md.push("## Latency, 1 client (20-chunk answers)", "");
    md.push(...(await repeated(() => latencyScenario(sys, DURATION_MS))), "");
    md.push("## Burst, 32 clients (20-chunk answers sent at once)", "");
    md.push(...(await repeated(() => burstScenario(sys, DURATION_MS))), "");
    md.push("## Paced streams (40 chunks × 20 ms), K clients", "");
    const paced: string[] = [];
    for (const k of LEVELS) {
      const rows = await repeated(() => pacedScenario(sys, [k], DURATION_MS));
      if (paced.length === 0) paced.push(...rows.slice(0, 2));
      paced.push(...rows.slice(2));
    }
    md.push(...paced, "");
  } finally {
    await sys.stop();
  }
  md.push("## Streams as resources", "", ...(await streamsReport(DURATION_MS, RESUMES)), "");
  if (IDLE > 0) {
    md.push("## Idle streams, gateway in its own process", "", ...(await idleStreams(IDLE, "sse")));
    md.push("", ...(await idleStreams(IDLE, "ws")), "");
  }
  const text = md.join("\n");
  process.stdout.write(text + "\n");
  writeFileSync("bench/last-run.md", text);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
