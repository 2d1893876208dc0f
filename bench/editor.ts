/**
 * `npm run bench` (after bench/run.ts) or `npm run bench:editor`: editor actions through the
 * durable path with the built-in `echo` (gateway → outbox → JetStream → worker → JetStream →
 * gateway), on real Postgres and NATS, against the compiled `sea-gateway up`:
 *
 * - the action round trip over HTTP/SSE: request → first event, → the final edit, → `done`;
 * - an MCP tool call (the SDK's client, one session) against the same action over
 *   `POST /v1/editor/actions/{name}` (JSON), interleaved in the same run: the MCP overhead.
 */
import { freePort } from "../chaos/lib/free-port.js";
import { writeFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createParser } from "eventsource-parser";
import { mintKey } from "../adapters/auth/jwt-verifier.js";
import { startCli, waitReady, type Proc } from "./lib/processes.js";
import { benchWorld, quantile } from "./lib/world.js";

const REQUESTS = Number(process.env.BENCH_EDITOR_REQUESTS ?? 300);
const WARMUP = 30;

/** A 200-line TypeScript file; the action runs on 10 of its lines (with non-ASCII text). */
const CONTENT = Array.from(
  { length: 200 },
  (_, i) => `export const value${i} = compute(${i}, "π ${i} 😀");`,
).join("\n");
const INPUT = {
  path: "src/values.ts",
  language: "typescript",
  content: CONTENT,
  selection: { start: { line: 100, character: 0 }, end: { line: 110, character: 0 } },
};

interface StreamedTiming {
  firstEventMs: number;
  finalEditMs: number;
  doneMs: number;
}

/** One streamed `refactor`: when the first event, the (last) edit and `done` arrived. */
async function streamedAction(base: string, key: string): Promise<StreamedTiming> {
  const start = performance.now();
  const res = await fetch(`${base}/v1/editor/actions/refactor`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ ...INPUT, stream: true }),
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const t: StreamedTiming = { firstEventMs: -1, finalEditMs: -1, doneMs: -1 };
  const parser = createParser({
    onEvent: (ev) => {
      const at = performance.now() - start;
      if (t.firstEventMs < 0) t.firstEventMs = at;
      if (ev.event === "edit") t.finalEditMs = at;
      if (ev.event === "done") t.doneMs = at;
      if (ev.event === "error") throw new Error(ev.data);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
  if (t.doneMs < 0 || t.finalEditMs < 0) throw new Error("stream ended without edit and done");
  return t;
}

/** One `refactor` as a JSON request: the whole round trip. */
async function jsonAction(base: string, key: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/v1/editor/actions/refactor`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(INPUT),
  });
  const body = (await res.json()) as { edits?: unknown[] };
  if (!res.ok || body.edits?.length !== 1) throw new Error(`HTTP ${res.status}`);
  return performance.now() - start;
}

/** One `refactor` as an MCP tool call on an open session: the whole round trip. */
async function mcpAction(client: Client): Promise<number> {
  const start = performance.now();
  const r = await client.callTool({ name: "refactor", arguments: INPUT });
  const edits = (r.structuredContent as { edits?: unknown[] } | undefined)?.edits;
  if (r.isError || edits?.length !== 1) throw new Error(`tool failed: ${JSON.stringify(r)}`);
  return performance.now() - start;
}

async function main(): Promise<void> {
  const world = benchWorld();
  const port = await freePort();
  let gateway: Proc | null = null;
  let client: Client | null = null;
  try {
    // No CAPABILITIES_FILE: the default catalog, whose built-in actions run on `echo`.
    gateway = startCli(["up"], { ...world.env, PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    await waitReady(`${base}/health/ready`, gateway);
    const key = await mintKey(world.secret, { tenant: "bench", ttlSecs: 3600 });
    client = new Client({ name: "bench", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      }),
    );
    for (let i = 0; i < WARMUP; i++) {
      await streamedAction(base, key);
      await jsonAction(base, key);
      await mcpAction(client);
    }
    const streamed: StreamedTiming[] = [];
    const json: number[] = [];
    const mcp: number[] = [];
    // Interleaved, one at a time: the three see the same machine state.
    for (let i = 0; i < REQUESTS; i++) {
      streamed.push(await streamedAction(base, key));
      json.push(await jsonAction(base, key));
      mcp.push(await mcpAction(client));
    }
    report(streamed, json, mcp);
  } finally {
    await client?.close().catch(() => undefined);
    await gateway?.stop();
    await world.cleanup();
  }
}

function report(streamed: StreamedTiming[], json: number[], mcp: number[]): void {
  const f = (x: number) => x.toFixed(2);
  const row = (name: string, xs: number[]) =>
    `| ${name} | ${f(quantile(xs, 0.5))} | ${f(quantile(xs, 0.99))} |`;
  const md = [
    `Editor action \`refactor\` (echo) on a 200-line TypeScript document, 10 selected lines; ` +
      `${REQUESTS} requests per row, one at a time, interleaved; ${new Date().toISOString()}; ` +
      `node ${process.version}; \`sea-gateway up\` (gateway + relays + workers in one process) ` +
      `on the system PostgreSQL and NATS.`,
    "",
    "| measure | p50 (ms) | p99 (ms) |",
    "|---|---:|---:|",
    row(
      "HTTP SSE: request → first event",
      streamed.map((t) => t.firstEventMs),
    ),
    row(
      "HTTP SSE: request → final edit",
      streamed.map((t) => t.finalEditMs),
    ),
    row(
      "HTTP SSE: request → done",
      streamed.map((t) => t.doneMs),
    ),
    row("HTTP JSON: round trip", json),
    row("MCP tools/call (SDK client, one session): round trip", mcp),
    "",
    `MCP overhead over the HTTP JSON endpoint: ${f(quantile(mcp, 0.5) - quantile(json, 0.5))} ms ` +
      `at p50, ${f(quantile(mcp, 0.99) - quantile(json, 0.99))} ms at p99.`,
  ].join("\n");
  process.stdout.write(md + "\n");
  writeFileSync("bench/last-editor.md", md + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
