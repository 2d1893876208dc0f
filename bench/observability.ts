/**
 * The cost of observability on the hot path, in one run: three compiled `sea-gateway up`
 * processes (each on its own databases and streams) with metrics and tracing off, metrics on,
 * and metrics plus tracing on (spans exported over OTLP/HTTP to a sink in this process). The
 * same load generator (its own process) drives each in turn, in alternating order for several
 * rounds, so drift on a shared machine hits every variant alike; ratios are taken within a
 * round and their spread across rounds is reported. Then a `/metrics` scrape's time and size.
 *
 * Usage: npm run bench:observability (BENCH_ROUNDS, BENCH_DURATION_MS, BENCH_CLIENTS).
 */
import { freePort } from "../chaos/lib/free-port.js";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { mintKey } from "../adapters/auth/jwt-verifier.js";
import { load, type LoadResult } from "./capacity.js";
import { startCli, waitReady, type Proc } from "./lib/processes.js";
import { benchWorld, quantile } from "./lib/world.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5_000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);

interface Variant {
  name: string;
  env: Record<string, string>;
  proc?: Proc;
  url?: string;
  key?: string;
  stop?: () => Promise<void>;
}

/** An OTLP/HTTP receiver that accepts and drops everything (a collector that keeps up). */
async function otlpSink(): Promise<{ url: string; spans: () => number; close(): Promise<void> }> {
  let received = 0;
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (d: Buffer) => (raw += d.toString()));
    req.on("end", () => {
      received += (raw.match(/"spanId"/g) ?? []).length;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function start(v: Variant): Promise<void> {
  const world = benchWorld();
  const port = await freePort();
  v.proc = startCli(["up"], { ...world.env, PORT: String(port), ...v.env });
  await waitReady(`http://127.0.0.1:${port}/health/ready`, v.proc);
  v.url = `http://127.0.0.1:${port}`;
  v.key = await mintKey(world.secret, { tenant: "bench", ttlSecs: 3600 });
  v.stop = async () => {
    await v.proc!.stop();
    await world.cleanup();
  };
}

const run = (v: Variant, durationMs: number, clients = CLIENTS): Promise<LoadResult> =>
  load({
    baseURL: `${v.url}/v1`,
    key: v.key!,
    model: "sea",
    clients,
    durationMs,
    expectChunks: 1,
  });

const rate = (r: LoadResult) => ((r.streams - r.errors) / r.wallMs) * 1000;
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "–");
const spread = (xs: number[], d = 2) =>
  `${f(quantile(xs, 0.5), d)} (${f(Math.min(...xs), d)} … ${f(Math.max(...xs), d)})`;

async function main(): Promise<void> {
  const sink = await otlpSink();
  const variants: Variant[] = [
    { name: "metrics off, tracing off", env: { METRICS_ENABLED: "false" } },
    { name: "metrics on, tracing off", env: {} },
    { name: "metrics on, tracing on", env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } },
  ];
  try {
    await Promise.all(variants.map(start));
    for (const v of variants) await run(v, 1_000, 4); // warm-up
    const rounds: Map<string, LoadResult>[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? variants : [...variants].reverse();
      const round = new Map<string, LoadResult>();
      for (const v of order) {
        const r = await run(v, DURATION_MS);
        round.set(v.name, r);
        process.stderr.write(
          `round ${i + 1} ${v.name}: ${f(rate(r), 1)} streams/s, TTFT p50 ${f(r.ttftP50)} ms, errors ${r.errors}\n`,
        );
      }
      rounds.push(round);
    }
    const off = variants[0]!.name;
    const lines = [
      `Observability cost; ${new Date().toISOString()}; node ${process.version}; ${ROUNDS} rounds ` +
        `of ${DURATION_MS / 1000} s per variant, ${CLIENTS} streaming clients (echo, 1 chunk), ` +
        "variants in alternating order. Median (min … max) over rounds; ratios within a round.",
      "",
      "| variant | streams/s | TTFT p50 (ms) | TTFT p99 (ms) | throughput vs off | added TTFT p50 vs off (ms) | errors |",
      "|---|---:|---:|---:|---:|---:|---:|",
    ];
    for (const v of variants) {
      const per = rounds.map((r) => r.get(v.name)!);
      const base = rounds.map((r) => r.get(off)!);
      lines.push(
        `| ${v.name} | ${spread(per.map(rate), 1)} | ${spread(per.map((r) => r.ttftP50))} | ` +
          `${spread(per.map((r) => r.ttftP99))} | ` +
          `${spread(per.map((r, i) => rate(r) / rate(base[i]!)))} | ` +
          `${spread(per.map((r, i) => r.ttftP50 - base[i]!.ttftP50))} | ` +
          `${per.reduce((a, r) => a + r.errors, 0)} |`,
      );
    }
    // A scrape of the busiest process's /metrics, after the load.
    const traced = variants[2]!;
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      const body = await (await fetch(`${traced.url}/metrics`)).text();
      times.push(performance.now() - t0);
      bytes = Buffer.byteLength(body);
    }
    lines.push(
      "",
      `A \`/metrics\` scrape (30 in a row, after the load): p50 ${f(quantile(times, 0.5))} ms, ` +
        `max ${f(Math.max(...times))} ms, ${(bytes / 1024).toFixed(1)} KiB. ` +
        `Spans received by the OTLP sink: ${sink.spans()}.`,
    );
    const md = lines.join("\n");
    process.stdout.write(md + "\n");
    writeFileSync("bench/last-observability.md", md + "\n");
  } finally {
    await Promise.all(variants.map((v) => v.stop?.()));
    await sink.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
