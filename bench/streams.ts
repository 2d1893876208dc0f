/**
 * Streams as resources: resume latency (reconnect → first replayed chunk), WebSocket against
 * SSE delivery at 32 clients, and the memory an open idle stream costs (SSE and WebSocket), on
 * one `up` process with the same mock upstream as the capacity scenarios.
 */
import { writeFileSync } from "node:fs";
import { load, startCapacitySystem } from "./capacity.js";
import { rssMb, startScript } from "./lib/processes.js";
import { quantile } from "./lib/world.js";

type System = Awaited<ReturnType<typeof startCapacitySystem>>;
const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "–");

/** Starts a background stream; resolves with its id. */
async function background(sys: System, model: string): Promise<string> {
  const r = await fetch(`${sys.gatewayURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${sys.key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, background: true, messages: [{ role: "user", content: "x" }] }),
  });
  await r.body?.cancel();
  return r.headers.get("x-stream-id")!;
}

/** Time from a resume request to its first content chunk, ms. */
async function resumeOnce(sys: System, streamId: string, after: number): Promise<number> {
  const start = performance.now();
  const r = await fetch(`${sys.gatewayURL}/chat/completions/${streamId}/events`, {
    headers: { authorization: `Bearer ${sys.key}`, "last-event-id": String(after) },
  });
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (/"content":"[^"]/.test(text)) break;
  }
  const ms = performance.now() - start;
  return ms;
}

async function waitDone(sys: System, streamId: string): Promise<void> {
  for (;;) {
    const r = await fetch(`${sys.gatewayURL}/chat/completions/${streamId}`, {
      headers: { authorization: `Bearer ${sys.key}` },
    });
    if (((await r.json()) as { status: string }).status === "completed") return;
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Resumes of finished streams (replayed from the stored stream) and of running ones. */
export async function resumeScenario(sys: System, n: number): Promise<string[]> {
  const finished: number[] = [];
  const running: number[] = [];
  for (let i = 0; i < n; i++) {
    const done = await background(sys, "burst");
    await waitDone(sys, done);
    finished.push(await resumeOnce(sys, done, 10));
    const live = await background(sys, "paced");
    await new Promise((res) => setTimeout(res, 150));
    running.push(await resumeOnce(sys, live, 2));
  }
  return [
    "| resume of | p50 (ms) | p99 (ms) | resumes |",
    "|---|---:|---:|---:|",
    `| a finished stream (after 10 of 20 chunks, replayed from JetStream) | ${f(quantile(finished, 0.5), 2)} | ${f(quantile(finished, 0.99), 2)} | ${n} |`,
    `| a running stream (after 2 chunks) | ${f(quantile(running, 0.5), 2)} | ${f(quantile(running, 0.99), 2)} | ${n} |`,
  ];
}

/** The same burst load over SSE and over WebSocket. */
export async function wsVsSseScenario(sys: System, durationMs: number): Promise<string[]> {
  const common = {
    key: sys.key,
    baseURL: sys.gatewayURL,
    clients: 32,
    durationMs,
    expectChunks: 20,
  };
  const sse = await load({ ...common, model: "burst", mode: "sse" });
  const ws = await load({ ...common, model: "burst", mode: "ws" });
  const rate = (r: typeof sse) => (r.chunks / r.wallMs) * 1000;
  return [
    "| surface | clients | chunks/s | completions/s | duration p99 (ms) | errors |",
    "|---|---:|---:|---:|---:|---:|",
    `| SSE | 32 | ${f(rate(sse), 0)} | ${f((sse.streams / sse.wallMs) * 1000)} | ${f(sse.durationP99)} | ${sse.errors} |`,
    `| WebSocket | 32 | ${f(rate(ws), 0)} | ${f((ws.streams / ws.wallMs) * 1000)} | ${f(ws.durationP99)} | ${ws.errors} |`,
  ];
}

/** Holds `n` idle streams (a model thinking) open until released; resolves once all are open. */
async function holdIdle(sys: System, n: number, mode: "sse" | "ws") {
  const p = startScript("bench/loadgen.ts", [
    JSON.stringify({
      baseURL: sys.gatewayURL,
      key: sys.key,
      model: "think",
      clients: n,
      durationMs: 0,
      expectChunks: 4,
      mode,
      hold: true,
    }),
  ]);
  let out = "";
  p.child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  while (!out.includes("open")) await new Promise((r) => setTimeout(r, 200));
  const report = JSON.parse(out.trim()) as { open: number; refusals: Record<string, number> };
  if (Object.keys(report.refusals).length > 0) {
    process.stderr.write(`idle streams refused: ${JSON.stringify(report.refusals)}\n`);
  }
  return {
    open: report.open,
    release: async () => {
      p.child.stdin!.end();
      await new Promise((r) => p.child.once("exit", r));
    },
  };
}

/**
 * Opens `n` idle streams and reports the gateway's memory per stream (RSS growth over them).
 * With `base`, that many streams are opened first and the figure is the cost of the next `n`:
 * the first streams also pay one-time growth (the young generation grows to its maximum, JIT,
 * buffers), which would otherwise dominate a figure over a thousand streams.
 */
export async function idleScenario(
  sys: System,
  n: number,
  mode: "sse" | "ws",
  pid: number = sys.gateway.pid,
  base = 0,
): Promise<{ perStreamKb: number; open: number; rssMb: number; addedMb: number }> {
  const settle = () => new Promise((r) => setTimeout(r, 2_000));
  const first = base > 0 ? await holdIdle(sys, base, mode) : null;
  await settle();
  const before = rssMb(pid);
  const measured = await holdIdle(sys, n, mode);
  await settle();
  const after = rssMb(pid);
  await measured.release();
  await first?.release();
  // Let the cancels go through before the next scenario.
  await new Promise((r) => setTimeout(r, 3_000));
  return {
    perStreamKb: ((after - before) * 1024) / Math.max(1, measured.open),
    open: measured.open + (first?.open ?? 0),
    rssMb: after,
    addedMb: after - before,
  };
}

/** Resume latency, WebSocket against SSE, and idle memory, on one system. */
export async function streamsReport(durationMs: number, resumes: number): Promise<string[]> {
  // Idle memory on a process of its own per surface, that holds nothing else: after a load (or
  // the other surface's streams), the garbage it collects meanwhile hides what the idle streams
  // take; the idle streams' cancels, in turn, would load the throughput figures.
  const idleMemory = async (mode: "sse" | "ws") => {
    const idle = await startCapacitySystem({ SSE_KEEPALIVE_MS: "1000" }, { warmUp: "light" });
    try {
      return await idleScenario(idle, 1000, mode, idle.gateway.pid, 1000);
    } finally {
      await idle.stop();
    }
  };
  const sse = await idleMemory("sse");
  const ws = await idleMemory("ws");
  const sys = await startCapacitySystem({ SSE_KEEPALIVE_MS: "1000" });
  try {
    const out = [...(await resumeScenario(sys, resumes)), ""];
    out.push(...(await wsVsSseScenario(sys, durationMs)), "");
    out.push(
      "| idle streams on one `up` process: gateway and worker, each with its handler's upstream request open (the second thousand measured) | open | memory per stream (KiB) | RSS (MiB) |",
      "|---|---:|---:|---:|",
      `| SSE | ${sse.open} | ${f(sse.perStreamKb)} | ${f(sse.rssMb, 0)} |`,
      `| WebSocket | ${ws.open} | ${f(ws.perStreamKb)} | ${f(ws.rssMb, 0)} |`,
    );
    return out;
  } finally {
    await sys.stop();
  }
}

async function main(): Promise<void> {
  const durationMs = Number(process.env.BENCH_DURATION_MS ?? 6_000);
  const out = await streamsReport(durationMs, Number(process.env.BENCH_RESUMES ?? 100));
  const text = [
    `# Streams as resources, ${new Date().toISOString()}, node ${process.version}`,
    "",
    ...out,
  ].join("\n");
  process.stdout.write(text + "\n");
  // Alone (npm run bench:streams); npm run bench puts the same tables in bench/last-run.md.
  writeFileSync("bench/last-streams.md", text + "\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
