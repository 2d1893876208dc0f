/**
 * The benchmark's load generator, in its own process: K clients streaming chat completions
 * (SSE over keep-alive HTTP, or WebSocket) for a while, each starting a new stream when the
 * last one ends. Parsing is deliberately cheap (no JSON per chunk) so the client is not the
 * bottleneck. Prints one JSON summary line.
 *
 * Usage: tsx bench/loadgen.ts '<json options>' (see Options).
 */
import { Agent, request } from "node:http";
import WebSocket from "ws";

interface Options {
  baseURL: string;
  key: string;
  model: string;
  clients: number;
  /** Stop starting streams after this long (ms). */
  durationMs: number;
  /** Content chunks every stream must deliver. */
  expectChunks: number;
  mode: "sse" | "ws";
  /** Idle mode: open `clients` streams, report when all are open, hold until stdin closes. */
  hold?: boolean;
}

const opts = JSON.parse(process.argv[2] ?? "{}") as Options;
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
const body = JSON.stringify({
  model: opts.model,
  stream: true,
  messages: [{ role: "user", content: "benchmark" }],
});

interface StreamResult {
  ok: boolean;
  durationMs: number;
  ttftMs: number;
  chunks: number;
  maxGapMs: number;
  gaps: number[];
}

const CONTENT = '"content":"';
/** Refused requests by HTTP status. */
const refusals = new Map<number | string, number>();

/** Counts content chunks (not the empty role chunk) in complete SSE events of `text`. */
function countContent(events: string[]): number {
  let n = 0;
  for (const e of events) {
    const at = e.indexOf(CONTENT);
    if (at >= 0 && e.charCodeAt(at + CONTENT.length) !== 34 /* " */) n++;
  }
  return n;
}

function sseStream(onOpen?: () => void): Promise<StreamResult> {
  return new Promise((resolve) => {
    const start = performance.now();
    let last = start;
    let ttft = -1;
    let chunks = 0;
    let maxGap = 0;
    const gaps: number[] = [];
    let buf = "";
    let done = false;
    const finish = (ok: boolean) =>
      resolve({
        ok: ok && done && chunks === opts.expectChunks,
        durationMs: performance.now() - start,
        ttftMs: ttft,
        chunks,
        maxGapMs: maxGap,
        gaps,
      });
    const req = request(
      `${opts.baseURL}/chat/completions`,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${opts.key}`,
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          refusals.set(res.statusCode ?? 0, (refusals.get(res.statusCode ?? 0) ?? 0) + 1);
          res.resume();
          return finish(false);
        }
        onOpen?.();
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          buf += d;
          const cut = buf.lastIndexOf("\n\n");
          if (cut < 0) return;
          const events = buf.slice(0, cut).split("\n\n");
          buf = buf.slice(cut + 2);
          const n = countContent(events);
          if (n > 0) {
            const now = performance.now();
            if (ttft < 0) ttft = now - start;
            else {
              const gap = now - last;
              gaps.push(gap);
              if (gap > maxGap) maxGap = gap;
            }
            last = now;
            chunks += n;
          }
          if (events.at(-1) === "data: [DONE]") done = true;
        });
        res.on("end", () => finish(true));
        res.on("error", () => finish(false));
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => {
      const code = err.code ?? "error";
      refusals.set(code as never, (refusals.get(code as never) ?? 0) + 1);
      finish(false);
    });
    req.end(body);
  });
}

/** One WebSocket per client; its streams run one after the other. */
function wsClient(): { stream: () => Promise<StreamResult>; close: () => void } {
  const ws = new WebSocket(`${opts.baseURL.replace(/^http/, "ws")}/ws`, {
    headers: { authorization: `Bearer ${opts.key}` },
  });
  const opened = new Promise<void>((r, j) => {
    ws.once("open", () => r());
    ws.once("error", j);
  });
  let current:
    ((m: { type: string; chunk?: { choices: { delta: { content?: string } }[] } }) => void) | null =
    null;
  ws.on("message", (d) => current?.(JSON.parse(String(d)) as never));
  let n = 0;
  return {
    close: () => ws.close(),
    stream: async () => {
      await opened;
      const start = performance.now();
      let last = start;
      let ttft = -1;
      let chunks = 0;
      let maxGap = 0;
      const gaps: number[] = [];
      return new Promise<StreamResult>((resolve) => {
        current = (m) => {
          if (m.type === "chunk" && m.chunk?.choices[0]?.delta.content) {
            const now = performance.now();
            if (ttft < 0) ttft = now - start;
            else {
              gaps.push(now - last);
              maxGap = Math.max(maxGap, now - last);
            }
            last = now;
            chunks++;
          } else if (m.type === "done" || m.type === "error") {
            current = null;
            resolve({
              ok: m.type === "done" && chunks === opts.expectChunks,
              durationMs: performance.now() - start,
              ttftMs: ttft,
              chunks,
              maxGapMs: maxGap,
              gaps,
            });
          }
        };
        ws.send(JSON.stringify({ type: "chat", id: ++n, request: JSON.parse(body) as unknown }));
      });
    },
  };
}

const q = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

/** Opens one WebSocket and starts a chat on it; resolves once the stream has started. */
function wsHold(): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${opts.baseURL.replace(/^http/, "ws")}/ws`, {
      headers: { authorization: `Bearer ${opts.key}` },
    });
    ws.once("open", () =>
      ws.send(JSON.stringify({ type: "chat", id: 1, request: JSON.parse(body) as unknown })),
    );
    ws.on("message", (d) => {
      if ((JSON.parse(String(d)) as { type: string }).type === "started") resolve(true);
    });
    ws.once("error", () => resolve(false));
  });
}

async function run(): Promise<void> {
  if (opts.hold) {
    let open = 0;
    const opened: Promise<void>[] = [];
    // Started in waves, as clients arrive, not all in one instant; all are then awaited.
    const wave = 200;
    for (let i = 0; i < opts.clients; i += wave) {
      for (let j = i; j < Math.min(i + wave, opts.clients); j++) {
        opened.push(
          new Promise<void>((resolve) => {
            if (opts.mode === "ws") {
              void wsHold().then((ok) => {
                if (ok) open++;
                resolve();
              });
              return;
            }
            void sseStream(() => {
              open++;
              resolve();
            }).then(() => resolve());
          }),
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const progress = setInterval(
      () => process.stderr.write(`loadgen: ${open} of ${opts.clients} streams open\n`),
      5_000,
    );
    await Promise.all(opened);
    clearInterval(progress);
    process.stdout.write(JSON.stringify({ open, refusals: Object.fromEntries(refusals) }) + "\n");
    // Held until the orchestrator closes stdin.
    process.stdin.resume();
    await new Promise((r) => process.stdin.once("end", r));
    process.exit(0);
  }
  const results: StreamResult[] = [];
  // For an orchestrator that measures CPU over the load only (not this process's start-up).
  process.stdout.write("start\n");
  const start = performance.now();
  const deadline = start + opts.durationMs;
  await Promise.all(
    Array.from({ length: opts.clients }, async () => {
      const ws = opts.mode === "ws" ? wsClient() : null;
      while (performance.now() < deadline) {
        results.push(await (ws ? ws.stream() : sseStream()));
      }
      ws?.close();
    }),
  );
  const wallMs = performance.now() - start;
  const ok = results.filter((r) => r.ok);
  const gaps = ok.flatMap((r) => r.gaps);
  process.stdout.write(
    JSON.stringify({
      streams: results.length,
      errors: results.length - ok.length,
      chunks: ok.reduce((a, r) => a + r.chunks, 0),
      wallMs,
      durationP50: q(
        ok.map((r) => r.durationMs),
        0.5,
      ),
      durationP99: q(
        ok.map((r) => r.durationMs),
        0.99,
      ),
      ttftP50: q(
        ok.map((r) => r.ttftMs),
        0.5,
      ),
      ttftP99: q(
        ok.map((r) => r.ttftMs),
        0.99,
      ),
      gapP99: q(gaps, 0.99),
    }) + "\n",
  );
  agent.destroy();
}

void run();
