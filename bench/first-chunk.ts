/**
 * `npm run bench` (after the others) or `npm run bench:first-chunk`: the time to the first chunk
 * of each client surface, interleaved in the same run, against the compiled `sea-gateway up`
 * (default catalog: `sea` on the built-in `echo`, so no model time is in the figures):
 *
 * - chat over HTTP SSE: request → first content delta, which with `echo` is all added by the
 *   gateway's durable path (outbox → relay → JetStream → worker → JetStream → gateway);
 * - the Responses API (`stream: true`): request → first `response.output_text.delta`;
 * - `sea-gateway acp` (compiled, spawned as Zed spawns it, driven by the ACP SDK's client):
 *   `session/prompt` → first `agent_message_chunk`, the same run underneath plus the agent.
 */
import { freePort } from "../chaos/lib/free-port.js";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Readable, Writable } from "node:stream";
import * as acp from "@agentclientprotocol/sdk";
import { createParser } from "eventsource-parser";
import { mintKey } from "../adapters/auth/jwt-verifier.js";
import { startCli, waitReady, type Proc } from "./lib/processes.js";
import { benchWorld, quantile } from "./lib/world.js";

const REQUESTS = Number(process.env.BENCH_FIRST_CHUNK_REQUESTS ?? 200);
const WARMUP = 20;
const PROMPT = "measure the first chunk of this answer please";

/** One streamed chat: ms from the request to the first content delta. */
async function chatTtft(base: string, key: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "sea",
      stream: true,
      messages: [{ role: "user", content: PROMPT }],
    }),
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  let first = -1;
  const parser = createParser({
    onEvent: (ev) => {
      if (first >= 0 || ev.data === "[DONE]") return;
      const c = JSON.parse(ev.data) as { choices?: { delta?: { content?: string } }[] };
      if (c.choices?.[0]?.delta?.content) first = performance.now() - start;
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
  if (first < 0) throw new Error("no content");
  return first;
}

/** One streamed response: ms from the request to the first `response.output_text.delta`. */
async function responsesTtft(base: string, key: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "sea", stream: true, input: PROMPT }),
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  let first = -1;
  const parser = createParser({
    onEvent: (ev) => {
      if (first < 0 && ev.event === "response.output_text.delta") first = performance.now() - start;
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
  if (first < 0) throw new Error("no output_text.delta");
  return first;
}

async function main(): Promise<void> {
  const world = benchWorld();
  const port = await freePort();
  let gateway: Proc | null = null;
  const agent = { kill: () => undefined as unknown };
  try {
    gateway = startCli(["up"], { ...world.env, PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    await waitReady(`${base}/health/ready`, gateway);
    const key = await mintKey(world.secret, { tenant: "bench", ttlSecs: 3600 });
    const child = spawn(process.execPath, ["dist/bin/sea-gateway.js", "acp"], {
      env: { PATH: process.env.PATH, SEA_GATEWAY_URL: base, SEA_API_KEY: key, LOG_LEVEL: "warn" },
      stdio: ["pipe", "pipe", "inherit"],
    });
    agent.kill = () => child.kill();
    let firstChunk: (() => void) | null = null;
    const client = acp
      .client({ name: "bench" })
      .onNotification("session/update", ({ params }) => {
        if (params.update.sessionUpdate === "agent_message_chunk") firstChunk?.();
      })
      .connect(
        acp.ndJsonStream(
          Writable.toWeb(child.stdin),
          Readable.toWeb(child.stdout) as ReadableStream<Uint8Array>,
        ),
      );
    await client.agent.request("initialize", {
      protocolVersion: acp.PROTOCOL_VERSION,
      clientCapabilities: {},
    });
    const acpFirstChunk = async (): Promise<number> => {
      // A fresh session each time: the history (and so the request) stays the same size.
      const { sessionId: id } = await client.agent.request("session/new", {
        cwd: process.cwd(),
        mcpServers: [],
      });
      const t0 = performance.now();
      let at = -1;
      firstChunk = () => {
        if (at < 0) at = performance.now() - t0;
      };
      await client.agent.request("session/prompt", {
        sessionId: id,
        prompt: [{ type: "text", text: PROMPT }],
      });
      firstChunk = null;
      if (at < 0) throw new Error("no agent_message_chunk");
      return at;
    };
    for (let i = 0; i < WARMUP; i++) {
      await chatTtft(base, key);
      await responsesTtft(base, key);
      await acpFirstChunk();
    }
    const chat: number[] = [];
    const responses: number[] = [];
    const acpTimes: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      chat.push(await chatTtft(base, key));
      responses.push(await responsesTtft(base, key));
      acpTimes.push(await acpFirstChunk());
    }
    report(chat, responses, acpTimes);
    client.close();
  } finally {
    agent.kill();
    await gateway?.stop();
    await world.cleanup();
  }
}

function report(chat: number[], responses: number[], acpTimes: number[]): void {
  const f = (x: number) => x.toFixed(2);
  const row = (name: string, xs: number[]) =>
    `| ${name} | ${f(quantile(xs, 0.5))} | ${f(quantile(xs, 0.9))} | ${f(quantile(xs, 0.99))} |`;
  const md = [
    `Time to the first chunk by client surface: chat, the Responses API, Zed's agent panel ` +
      `(\`sea-gateway acp\`); ${REQUESTS} ` +
      `requests per row, one at a time, interleaved; ${new Date().toISOString()}; node ` +
      `${process.version}; \`sea-gateway up\` on the system PostgreSQL and NATS, model \`sea\` ` +
      "on `echo` (no model time: the chat row is the gateway's added TTFT).",
    "",
    "| measure | p50 (ms) | p90 (ms) | p99 (ms) |",
    "|---|---:|---:|---:|",
    row("chat HTTP SSE: request → first content delta (added TTFT)", chat),
    row("Responses (stream): request → first response.output_text.delta", responses),
    row("ACP: session/prompt → first agent_message_chunk", acpTimes),
    "",
    `Against chat, the Responses rendering adds ${f(quantile(responses, 0.5) - quantile(chat, 0.5))} ms ` +
      `at p50 (${f(quantile(responses, 0.99) - quantile(chat, 0.99))} ms at p99); the agent ` +
      `${f(quantile(acpTimes, 0.5) - quantile(chat, 0.5))} ms at p50 ` +
      `(${f(quantile(acpTimes, 0.99) - quantile(chat, 0.99))} ms at p99).`,
  ].join("\n");
  process.stdout.write(md + "\n");
  writeFileSync("bench/last-first-chunk.md", md + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
