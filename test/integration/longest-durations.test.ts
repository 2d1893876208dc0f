import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import type { WsServerMessage } from "../../contracts/index.js";
import { contextHandlers } from "../../bin/handlers.js";
import { PgOutboxRelayStore } from "../../adapters/postgres/outbox-relay-store.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { longestAccepted } from "../helpers/durations.js";
import { createTestWorld, eventually, testLog } from "../helpers/env.js";
import { MockHandlerService } from "../helpers/mock-handler-service.js";
import { readSse } from "../helpers/sse-reader.js";
import { sseError } from "../helpers/sse.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

// Every timer fed by a setting, with each setting at the longest value start-up accepts: none
// may fire early (Node fires a delay above 2^31-1 ms after 1 ms).
const world = createTestWorld("longest");
const service = new MockHandlerService();
const drip = { ...echoHandler(60), name: "drip" };
const TEXT = Array.from({ length: 16 }, (_, i) => `w${i + 1}`).join(" ");
let system: TestSystem;
let env: Record<string, string>;

const LONGEST = [
  "REQUEST_DEADLINE_MS",
  "SSE_KEEPALIVE_MS",
  "STREAM_CANCEL_GRACE_MS",
  "WS_PING_INTERVAL_MS",
  "WS_SLOW_READER_MS",
  "HANDLER_TIMEOUT_MS",
  "PG_POOL_WAIT_MS",
  "ACK_WAIT_SECS",
  "RELAY_POLL_MS",
  "OUTAGE_WAIT_MS",
  "SHUTDOWN_GRACE_MS",
];

beforeAll(async () => {
  await service.start();
  env = { SEA_HANDLER_URL: service.url };
  for (const name of LONGEST) env[name] = String(longestAccepted(name, world.env));
  system = await startTestSystem(
    world,
    testCatalog([
      { id: "sea-drip", context: "sea", handler: "drip" },
      { id: "sea-svc", context: "sea", handler: "http" },
    ]),
    env,
  );
  await system.startWorkers(contextHandlers(world.config(env), "sea").register(drip), ["sea"]);
});

afterAll(async () => {
  await system?.stop();
  await service.stop();
  await world.cleanup();
});

const post = (
  model: string,
  content: string,
  drop?: number,
  headers: Record<string, string> = {},
) =>
  readSse(
    `${system.baseURL}/chat/completions`,
    {
      method: "POST",
      headers: {
        authorization: `Bearer ${system.apiKey}`,
        "content-type": "application/json",
        ...headers,
      },
      body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content }] }),
    },
    drop === undefined ? {} : { dropAfterChunks: drop },
  );

async function statusOf(streamId: string): Promise<{ status: string; content: string }> {
  const r = await fetch(`${system.baseURL}/chat/completions/${streamId}`, {
    headers: { authorization: `Bearer ${system.apiKey}` },
  });
  const b = (await r.json()) as { status: string; choices: { message: { content: string } }[] };
  return { status: b.status, content: b.choices[0]!.message.content };
}

describe("with every duration at the longest value start-up accepts", () => {
  it("streams a chat to its end: no deadline (504), no keep-alive comments", async () => {
    const r = await post("sea-drip", TEXT);
    expect(r.status).toBe(200);
    expect(sseError(r.body)).toBeUndefined();
    expect(r.text).toBe(TEXT);
    expect(r.body).not.toContain(": keep-alive");
    expect(r.body.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("runs on a stream whose reader left (the cancel grace)", async () => {
    const first = await post("sea-drip", TEXT, 2);
    expect(first.dropped).toBe(true);
    const streamId = first.headers.get("x-stream-id")!;
    const end = await eventually(async () => {
      const s = await statusOf(streamId);
      return s.status === "completed" || s.status === "cancelled" ? s : null;
    });
    expect(end).toEqual({ status: "completed", content: TEXT });
  });

  it("keeps a WebSocket open through a chat (pings)", async () => {
    const ws = new WebSocket(`${system.baseURL.replace(/^http/, "ws")}/ws`, {
      headers: { authorization: `Bearer ${system.apiKey}` },
    });
    const messages: WsServerMessage[] = [];
    const closes: number[] = [];
    ws.on("message", (d) => messages.push(JSON.parse(String(d)) as WsServerMessage));
    ws.on("close", (code: number) => closes.push(code));
    await once(ws, "open");
    ws.send(
      JSON.stringify({
        type: "chat",
        id: 1,
        request: { model: "sea-drip", messages: [{ role: "user", content: TEXT }] },
      }),
    );
    await eventually(() => messages.find((m) => m.type === "done") ?? closes[0]);
    expect(closes).toEqual([]);
    expect(messages.find((m) => m.type === "done")).toMatchObject({ status: "completed" });
    ws.close();
  });

  it("lets a handler service take longer than a millisecond (HANDLER_TIMEOUT_MS)", async () => {
    // The service answers its first attempt after 1.5 s: a timed-out attempt would be retried.
    const r = await post("sea-svc", "slow");
    const streamId = r.headers.get("x-stream-id")!;
    expect(sseError(r.body)).toBeUndefined();
    expect(await statusOf(streamId)).toEqual({ status: "completed", content: "in time" });
    const attempts = service.requests.filter(
      (q) => (q.payload as { stream_id: string }).stream_id === streamId,
    );
    expect(attempts).toHaveLength(1);
  });

  it("has the relay wait for rows until it is woken (RELAY_POLL_MS)", async () => {
    const store = new PgOutboxRelayStore(system.runtime.pools.sea, world.databaseUrls.sea, testLog);
    try {
      // Listening first (a real connection); then only the wait's own timer is faked.
      await store.waitForRows(0, AbortSignal.abort());
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
      const stop = new AbortController();
      let returned = false;
      const waiting = store
        .waitForRows(Number(env.RELAY_POLL_MS), stop.signal)
        .then(() => (returned = true));
      await vi.advanceTimersByTimeAsync(1_000);
      expect(returned).toBe(false);
      stop.abort();
      await waiting;
      expect(returned).toBe(true);
    } finally {
      vi.useRealTimers();
      await store.close();
    }
  });

  it("lets an open stream finish when the gateway stops (SHUTDOWN_GRACE_MS)", async () => {
    // Not kept alive: an idle keep-alive connection would hold the stop for its own timeout.
    const before = await system.outboxCount();
    const reading = post("sea-drip", TEXT, undefined, { connection: "close" });
    // The stream has started once its command is in the outbox.
    await eventually(async () => (await system.outboxCount()) > before);
    const stopping = system.runtime.stop(world.config(env).shutdownGraceMs);
    const r = await reading;
    expect(sseError(r.body)).toBeUndefined();
    expect(r.text).toBe(TEXT);
    await stopping;
  });
});
