import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { WsServerMessage } from "../../contracts/index.js";
import { mintKey, parseDuration } from "../../adapters/auth/jwt-verifier.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld, eventually, TEST_SECRET } from "../helpers/env.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

// The WebSocket surface with the `ws` package as a real client.
const world = createTestWorld("websocket");
let system: TestSystem;
let wsUrl: string;
const drip = { ...echoHandler(60), name: "drip" };

beforeAll(async () => {
  system = await startTestSystem(
    world,
    testCatalog([{ id: "sea-drip", context: "sea", handler: "drip" }]),
    { WS_MAX_BUFFERED_BYTES: "65536", WS_SLOW_READER_MS: "800", WS_PING_INTERVAL_MS: "10000" },
  );
  await system.startWorkers(new HandlerRegistry().register(echoHandler()).register(drip));
  wsUrl = system.baseURL.replace(/^http/, "ws") + "/ws";
});

afterAll(async () => {
  await system?.stop();
  await world.cleanup();
});

/** A client socket that records every message it receives. */
async function connect(
  opts: { headers?: Record<string, string>; protocols?: string[]; query?: string } = {},
) {
  const ws = new WebSocket(`${wsUrl}${opts.query ?? ""}`, opts.protocols ?? [], {
    headers: opts.headers ?? { authorization: `Bearer ${system.apiKey}` },
  });
  const messages: WsServerMessage[] = [];
  ws.on("message", (d) => messages.push(JSON.parse(String(d)) as WsServerMessage));
  await once(ws, "open");
  const waitFor = (pred: (m: WsServerMessage) => boolean, ms = 10_000) =>
    eventually(() => messages.find(pred), ms, "websocket message");
  return { ws, messages, waitFor, send: (m: unknown) => ws.send(JSON.stringify(m)) };
}

const request = (content: string, model = "sea") => ({
  model,
  stream: true,
  messages: [{ role: "user", content }],
});

/** The text of one stream's chunks, in seq order. */
function textOf(messages: WsServerMessage[], streamId: string): string {
  return messages
    .filter((m): m is Extract<WsServerMessage, { type: "chunk" }> => m.type === "chunk")
    .filter((m) => m.stream_id === streamId)
    .map((m) => m.chunk.choices[0]?.delta.content ?? "")
    .join("");
}

describe("/v1/ws", () => {
  it("multiplexes five chats on one socket", async () => {
    const c = await connect();
    const texts = Array.from({ length: 5 }, (_, i) => `chat ${i} says ${"word ".repeat(i + 2)}`);
    texts.forEach((t, i) => c.send({ type: "chat", id: `c${i}`, request: request(t, "sea-drip") }));
    const started = await eventually(
      () => {
        const s = c.messages.filter((m) => m.type === "started");
        return s.length === 5 ? s : null;
      },
      10_000,
      "five started",
    );
    for (const [i, t] of texts.entries()) {
      const s = started.find((m) => m.type === "started" && m.id === `c${i}`)!;
      const streamId = (s as { stream_id: string }).stream_id;
      await c.waitFor((m) => m.type === "done" && m.stream_id === streamId);
      expect(textOf(c.messages, streamId)).toBe(t);
      expect(c.messages).toContainEqual({ type: "done", stream_id: streamId, status: "completed" });
    }
    // Chunks of different streams interleave on the socket: it is one connection.
    const order = c.messages.filter((m) => m.type === "chunk").map((m) => m.stream_id);
    expect(new Set(order).size).toBe(5);
    c.ws.close();
  });

  it("follows a stream started over HTTP, after a cursor", async () => {
    const r = await fetch(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${system.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ ...request("one two three four five", "sea-drip"), background: true }),
    });
    const streamId = r.headers.get("x-stream-id")!;
    const c = await connect();
    c.send({ type: "subscribe", stream_id: streamId, starting_after: 2 });
    await c.waitFor((m) => m.type === "done" && m.stream_id === streamId);
    expect(textOf(c.messages, streamId)).toBe("three four five");
    const seqs = c.messages
      .filter((m) => m.type === "chunk" && m.chunk.choices[0]?.delta.content)
      .map((m) => (m as { seq: number }).seq);
    expect(seqs).toEqual([3, 4, 5]);
    c.ws.close();
  });

  it("cancels a stream over the socket", async () => {
    const c = await connect();
    c.send({
      type: "chat",
      id: 1,
      request: request("a b c d e f g h i j k l m n o p", "sea-drip"),
    });
    const started = (await c.waitFor((m) => m.type === "started")) as { stream_id: string };
    await c.waitFor((m) => m.type === "chunk");
    c.send({ type: "cancel", stream_id: started.stream_id });
    await c.waitFor((m) => m.type === "done" && m.stream_id === started.stream_id);
    expect(c.messages).toContainEqual({
      type: "done",
      stream_id: started.stream_id,
      status: "cancelled",
    });
    c.ws.close();
  });

  it("cancels its plain chats when the socket closes", async () => {
    const c = await connect();
    c.send({ type: "chat", id: 1, request: request("x ".repeat(40), "sea-drip") });
    const started = (await c.waitFor((m) => m.type === "started")) as { stream_id: string };
    c.ws.close();
    const status = await eventually(async () => {
      const r = await fetch(`${system.baseURL}/chat/completions/${started.stream_id}`, {
        headers: { authorization: `Bearer ${system.apiKey}` },
      });
      const b = (await r.json()) as { status: string; error: { code: string } | null };
      return b.error?.code === "cancelled" ? b.status : null;
    });
    expect(status).toBe("cancelled");
  });

  it("answers malformed frames with an error message and keeps the socket", async () => {
    const c = await connect();
    c.ws.send("not json");
    c.ws.send(Buffer.from([1, 2, 3]));
    c.send({ type: "nope" });
    c.send({ type: "subscribe" });
    c.send({ type: "chat", id: 1, request: { model: "sea", messages: [] } });
    c.send({ type: "subscribe", stream_id: "does-not-exist" });
    await eventually(() => c.messages.filter((m) => m.type === "error").length >= 6);
    const errors = c.messages.filter((m) => m.type === "error") as Extract<
      WsServerMessage,
      { type: "error" }
    >[];
    expect(errors.map((e) => e.error.code)).toEqual(
      expect.arrayContaining(["invalid_message", "invalid_request", "stream_not_found"]),
    );
    expect(errors.find((e) => e.id === 1)?.error.message).toMatch(/messages/);
    c.send({ type: "ping" });
    await c.waitFor((m) => m.type === "pong");
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();
  });

  it("refuses a socket without a valid key before the upgrade", async () => {
    for (const headers of [{}, { authorization: "Bearer nope" }]) {
      const ws = new WebSocket(wsUrl, { headers });
      const [, res] = (await once(ws, "unexpected-response")) as [unknown, { statusCode: number }];
      expect(res.statusCode).toBe(401);
    }
  });

  it("takes a browser's key as a subprotocol or a query parameter, never echoing it", async () => {
    const viaProtocol = await connect({
      headers: {},
      protocols: ["sea.v1", `bearer.${system.apiKey}`],
    });
    expect(viaProtocol.ws.protocol).toBe("sea.v1");
    viaProtocol.ws.close();
    const viaQuery = await connect({ headers: {}, query: `?access_token=${system.apiKey}` });
    viaQuery.send({ type: "ping" });
    await viaQuery.waitFor((m) => m.type === "pong");
    viaQuery.ws.close();
  });

  it("closes a reader that does not read with 1013, buffering a bounded amount", async () => {
    const c = await connect();
    let received = 0;
    c.ws.on("message", (d: Buffer) => (received += d.length));
    // Stop reading: the kernel buffers fill, then the gateway's send buffer.
    c.ws.pause();
    // 6 words of 60 kB (under the prompt limit): each answer is 6 chunks, 360 kB; 60 of them
    // overflow the kernel's socket buffers (several MB on loopback), then the gateway's.
    const big = Array.from({ length: 6 }, () => "x".repeat(60_000)).join(" ");
    const closed = once(c.ws, "close");
    for (let i = 0; i < 60; i++) c.send({ type: "chat", id: i, request: request(big) });
    // Give the gateway time to notice; then read again to receive what it sent, and its close.
    await new Promise((r) => setTimeout(r, 4_000));
    c.ws.resume();
    const [code, reason] = (await closed) as [number, Buffer];
    expect(code).toBe(1013);
    expect(String(reason)).toMatch(/slow|buffer/);
    // 21.6 MB were produced for it; it got what the kernel buffers held plus at most the
    // gateway's bound (here ~4 MB in all): the gateway did not keep the rest.
    expect(received).toBeLessThan((60 * 360_000) / 2);
  });
});

// Keys as `sea-gateway keys create` mints them: 30 days by default, a year for LibreChat. Both
// expire later than a Node timer can wait (2^31-1 ms).
describe("/v1/ws with the keys users get", () => {
  it.each(["30d", "365d"])("keeps a socket opened with a %s key through a chat", async (ttl) => {
    const key = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: parseDuration(ttl) });
    const c = await connect({ headers: { authorization: `Bearer ${key}` } });
    const closes: number[] = [];
    c.ws.on("close", (code: number) => closes.push(code));
    c.send({ type: "chat", id: 1, request: request("one two three four", "sea-drip") });
    const started = (await c.waitFor((m) => m.type === "started")) as { stream_id: string };
    await c.waitFor((m) => m.type === "done" && m.stream_id === started.stream_id);
    expect(textOf(c.messages, started.stream_id)).toBe("one two three four");
    c.send({ type: "ping" });
    await c.waitFor((m) => m.type === "pong");
    expect(closes).toEqual([]);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();
  });

  it("closes the socket with 1008 when its key expires while it is open", async () => {
    const key = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 2 });
    const c = await connect({ headers: { authorization: `Bearer ${key}` } });
    const [code, reason] = (await once(c.ws, "close")) as [number, Buffer];
    expect(code).toBe(1008);
    expect(String(reason)).toBe("key expired");
  });
});
