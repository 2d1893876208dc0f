/**
 * `npm run bench`: N concurrent streaming completions through the full durable path
 * (gateway → outbox → relay → JetStream → worker → JetStream → gateway) against the same client
 * reading the equivalent direct SSE server, in the same run, on real Postgres and NATS.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { connect } from "nats";
import pg from "pg";
import { mintKey } from "../adapters/auth/hs256.js";
import { streamOnce, type StreamTiming } from "./sse-client.js";

const PG = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NATS = process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";
const SECRET = randomBytes(32).toString("hex");
const LEVELS = (process.env.BENCH_CONCURRENCY ?? "1,8,32").split(",").map(Number);
const PER_LEVEL = Number(process.env.BENCH_REQUESTS ?? 300);
const WARMUP = 40;
const TEXT = Array.from({ length: 24 }, (_, i) => `word${i}`).join(" ");

interface Target {
  name: string;
  baseURL: string;
  pid: number;
}

interface LevelResult {
  target: string;
  concurrency: number;
  requests: number;
  ttftP50: number;
  ttftP99: number;
  chunksPerSec: number;
  completionsPerSec: number;
  peakRssMb: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function runLevel(t: Target, key: string, c: number, n: number): Promise<LevelResult> {
  let peak = rssMb(t.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(t.pid))), 50);
  const timings: StreamTiming[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) {
        next++;
        const r = await streamOnce(t.baseURL, key, "sea", TEXT);
        if (r.text !== TEXT) throw new Error(`${t.name}: wrong text ${JSON.stringify(r.text)}`);
        timings.push(r);
      }
    }),
  );
  const wall = (performance.now() - start) / 1000;
  clearInterval(sampler);
  const chunks = timings.reduce((a, r) => a + r.chunks, 0);
  return {
    target: t.name,
    concurrency: c,
    requests: n,
    ttftP50: quantile(
      timings.map((r) => r.ttftMs),
      0.5,
    ),
    ttftP99: quantile(
      timings.map((r) => r.ttftMs),
      0.99,
    ),
    chunksPerSec: chunks / wall,
    completionsPerSec: n / wall,
    peakRssMb: peak,
  };
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

async function main(): Promise<void> {
  const ns = `bench${randomBytes(3).toString("hex")}`;
  const db = (ctx: string) => {
    const u = new URL(PG);
    u.pathname = `/${ns}_${ctx}`;
    return u.toString();
  };
  const port = 18000 + Math.floor(Math.random() * 1000);
  const children: ChildProcess[] = [];
  try {
    // The compiled build, as `npm start` runs it (npm run bench builds first).
    const gateway = spawn(process.execPath, ["dist/bin/sea-gateway.js", "up"], {
      env: {
        PATH: process.env.PATH,
        NATS_URL: NATS,
        SEA_DATABASE_URL: db("sea"),
        VIBESPRO_DATABASE_URL: db("vibespro"),
        GATEWAY_JWT_SECRET: SECRET,
        NATS_NAMESPACE: ns,
        PORT: String(port),
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    children.push(gateway);
    const direct = spawn(process.execPath, ["--import", "tsx", "bench/direct-sse-server.ts", "0"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(direct);
    const [line] = (await once(direct.stdout!, "data")) as [Buffer];
    const directPort = Number(/listening (\d+)/.exec(line.toString())?.[1]);
    await waitFor(`http://127.0.0.1:${port}/health/ready`, gateway);
    const key = await mintKey(SECRET, "bench", 3600);
    const targets: Target[] = [
      {
        name: "direct SSE (baseline)",
        baseURL: `http://127.0.0.1:${directPort}/v1`,
        pid: direct.pid!,
      },
      { name: "durable path (up)", baseURL: `http://127.0.0.1:${port}/v1`, pid: gateway.pid! },
    ];
    for (const t of targets) await runLevel(t, key, 4, WARMUP);
    const results: LevelResult[] = [];
    for (const c of LEVELS) {
      for (const t of targets) {
        const r = await runLevel(t, key, c, Math.max(PER_LEVEL, c * 10));
        results.push(r);
        process.stderr.write(`${t.name} c=${c}: ttft p50 ${r.ttftP50.toFixed(2)} ms\n`);
      }
    }
    report(results);
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode === null ? once(c, "exit") : null)));
    await cleanup(ns);
  }
}

function report(results: LevelResult[]): void {
  const f = (x: number, d = 1) => x.toFixed(d);
  const lines = [
    `Echo of ${TEXT.split(" ").length} words per completion; ${new Date().toISOString()}; ` +
      `node ${process.version}; peak RSS is the serving process (for the durable path: gateway + ` +
      `relays + workers in one \`up\` process; Postgres and NATS not counted).`,
    "",
    "| target | concurrency | TTFT p50 (ms) | TTFT p99 (ms) | chunks/s | completions/s | peak RSS (MiB) |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...results.map(
      (r) =>
        `| ${r.target} | ${r.concurrency} | ${f(r.ttftP50, 2)} | ${f(r.ttftP99, 2)} | ${f(r.chunksPerSec, 0)} | ${f(r.completionsPerSec)} | ${f(r.peakRssMb, 0)} |`,
    ),
    "",
    "| concurrency | added TTFT p50 (ms) | TTFT p50 ratio | throughput ratio (direct / durable) |",
    "|---:|---:|---:|---:|",
  ];
  for (const c of new Set(results.map((r) => r.concurrency))) {
    const [d, g] = results.filter((r) => r.concurrency === c);
    if (!d || !g) continue;
    lines.push(
      `| ${c} | ${f(g.ttftP50 - d.ttftP50, 2)} | ${f(g.ttftP50 / d.ttftP50, 1)}× | ${f(d.completionsPerSec / g.completionsPerSec, 1)}× |`,
    );
  }
  const md = lines.join("\n");
  process.stdout.write(md + "\n");
  writeFileSync("bench/last-run.md", md + "\n");
}

async function cleanup(ns: string): Promise<void> {
  const nc = await connect({ servers: NATS });
  const jsm = await nc.jetstreamManager();
  for await (const s of jsm.streams.list()) {
    if (s.config.name.startsWith(`${ns.toUpperCase()}_`)) await jsm.streams.delete(s.config.name);
  }
  await nc.close();
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  for (const ctx of ["sea", "vibespro"])
    await admin.query(`DROP DATABASE IF EXISTS "${ns}_${ctx}" WITH (FORCE)`);
  await admin.end();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
