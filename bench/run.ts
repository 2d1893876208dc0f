/**
 * `npm run bench`: N concurrent streaming completions through the full durable path
 * (gateway → outbox → relay → JetStream → worker → JetStream → gateway) against the same client
 * reading the equivalent direct SSE server, in the same run, on real Postgres and NATS.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { connect } from "nats";
import pg from "pg";
import { mintKey } from "../adapters/auth/jwt-verifier.js";
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
  model: string;
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
  /** Mean time between content chunks after the first. */
  interChunkMs: number;
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
        const r = await streamOnce(t.baseURL, key, t.model, TEXT);
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
    interChunkMs:
      timings.reduce((a, r) => a + (r.totalMs - r.ttftMs) / Math.max(1, r.chunks - 1), 0) /
      timings.length,
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
    // The direct server is also the mock upstream model of the `openai` handler path.
    const direct = spawn(process.execPath, ["--import", "tsx", "bench/direct-sse-server.ts", "0"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(direct);
    const [line] = (await once(direct.stdout!, "data")) as [Buffer];
    const directPort = Number(/listening (\d+)/.exec(line.toString())?.[1]);
    const catalogFile = path.join(mkdtempSync(path.join(tmpdir(), "bench-")), "capabilities.yaml");
    writeFileSync(
      catalogFile,
      "capabilities:\n" +
        "  - {id: sea, context: sea, handler: echo}\n" +
        "  - {id: vibespro, context: vibespro, handler: echo}\n" +
        "  - {id: sea-upstream, context: sea, handler: openai, upstream_model: mock}\n",
    );
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
        CAPABILITIES_FILE: catalogFile,
        UPSTREAM_OPENAI_BASE_URL: `http://127.0.0.1:${directPort}/v1`,
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    children.push(gateway);
    await waitFor(`http://127.0.0.1:${port}/health/ready`, gateway);
    const key = await mintKey(SECRET, { tenant: "bench", ttlSecs: 3600 });
    const directURL = `http://127.0.0.1:${directPort}/v1`;
    const gatewayURL = `http://127.0.0.1:${port}/v1`;
    const targets: Target[] = [
      { name: "direct SSE (baseline)", baseURL: directURL, pid: direct.pid!, model: "sea" },
      { name: "durable path, echo", baseURL: gatewayURL, pid: gateway.pid!, model: "sea" },
      {
        name: "durable path, openai adapter → same server",
        baseURL: gatewayURL,
        pid: gateway.pid!,
        model: "sea-upstream",
      },
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
      `node ${process.version}. The openai-adapter rows call the baseline server as their ` +
      `upstream model. Peak RSS is the serving process (for the durable paths: gateway + relays ` +
      `+ workers in one \`up\` process; Postgres and NATS not counted).`,
    "",
    "| target | concurrency | TTFT p50 (ms) | TTFT p99 (ms) | ms between chunks | chunks/s | completions/s | peak RSS (MiB) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map(
      (r) =>
        `| ${r.target} | ${r.concurrency} | ${f(r.ttftP50, 2)} | ${f(r.ttftP99, 2)} | ${f(r.interChunkMs, 3)} | ${f(r.chunksPerSec, 0)} | ${f(r.completionsPerSec)} | ${f(r.peakRssMb, 0)} |`,
    ),
    "",
    "| concurrency | path | added TTFT p50 (ms) | added ms per chunk | throughput ratio (direct / path) |",
    "|---:|---|---:|---:|---:|",
  ];
  for (const c of new Set(results.map((r) => r.concurrency))) {
    const atC = results.filter((r) => r.concurrency === c);
    const d = atC[0]!;
    for (const g of atC.slice(1)) {
      lines.push(
        `| ${c} | ${g.target} | ${f(g.ttftP50 - d.ttftP50, 2)} | ${f(g.interChunkMs - d.interChunkMs, 3)} | ${f(d.completionsPerSec / g.completionsPerSec, 1)}× |`,
      );
    }
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
