import { once } from "node:events";
import { connect } from "node:net";
import OpenAI from "openai";
import { sdkClient } from "../helpers/zed-fetch.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld, eventually, TEST_SECRET } from "../helpers/env.js";
import { slowStartHandler } from "../helpers/handlers.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

const world = createTestWorld("limits");
let system: TestSystem;

const drip = { ...echoHandler(400), name: "drip" };

beforeAll(async () => {
  system = await startTestSystem(
    world,
    testCatalog([
      { id: "sea-slow", context: "sea", handler: "slow" },
      { id: "sea-drip", context: "sea", handler: "drip" },
    ]),
    {
      MAX_MESSAGES: "5",
      MAX_PROMPT_CHARS: "1000",
      REQUEST_DEADLINE_MS: "1500",
      SHED_EVENT_LOOP_DELAY_MS: "300",
      REQUEST_RECEIVE_TIMEOUT_MS: "800",
    },
  );
  await system.startWorkers(
    new HandlerRegistry()
      .register(echoHandler())
      .register(slowStartHandler("slow", 3_000))
      .register(drip),
  );
});

afterAll(async () => {
  await system?.stop();
  await world.cleanup();
});

const body = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: "sea", messages: [{ role: "user", content: "hi" }], ...extra });

function post(key: string, b: string) {
  return fetch(`${system.baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: b,
  });
}

describe("limits", () => {
  it("refuses too many messages (400) and too large a prompt (413)", async () => {
    const many = Array.from({ length: 6 }, () => ({ role: "user", content: "x" }));
    const r1 = await post(system.apiKey, body({ messages: many }));
    expect(r1.status).toBe(400);
    expect(await r1.json()).toMatchObject({
      error: { code: "too_many_messages", param: "messages" },
    });
    const r2 = await post(
      system.apiKey,
      body({ messages: [{ role: "user", content: "x".repeat(1001) }] }),
    );
    expect(r2.status).toBe(413);
    expect(await r2.json()).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it("limits a key's accepted completions per minute with 429 and retry-after", async () => {
    const key = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 600, rpm: 2 });
    const sdk = sdkClient(system.baseURL, key);
    // Neither a refused request nor the model list uses up the budget.
    expect((await post(key, body({ messages: [] }))).status).toBe(400);
    await sdk.models.list();
    const first = await post(key, body());
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit")).toBe("2");
    expect(first.headers.get("x-ratelimit-remaining")).toBe("1");
    expect((await post(key, body())).status).toBe(200);
    const limited = await post(key, body());
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ error: { code: "rate_limit_exceeded" } });
    await expect(
      sdk.chat.completions.create({ model: "sea", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    // Listing models still works for a key over its completion budget.
    expect((await sdk.models.list()).data.length).toBeGreaterThan(0);
  });

  it("limits a key's concurrent open streams with 429 and retry-after", async () => {
    const key = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 600, maxStreams: 1 });
    const first = post(key, body({ model: "sea-slow", stream: true }));
    await new Promise((r) => setTimeout(r, 200));
    const second = await post(key, body());
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("1");
    await (await first).text(); // ends at the deadline (504)
    expect((await post(key, body())).status).toBe(200);
  });

  it("ends a request at its deadline with 504 and cancels the work", async () => {
    const r = await post(system.apiKey, body({ model: "sea-slow" }));
    expect(r.status).toBe(504);
    expect(await r.json()).toMatchObject({ error: { code: "deadline_exceeded" } });
    const streamId = r.headers.get("x-stream-id");
    const cancels = await eventually(
      async () =>
        (
          await system.runtime.pools.sea.query(
            "SELECT count(*)::int AS n FROM outbox_events WHERE event_type = 'chat_cancel' AND aggregate_id = $1",
            [streamId],
          )
        ).rows[0].n,
      5_000,
      "cancel command",
    );
    expect(cancels).toBe(1);
  });

  it("ends a stream already under way at its deadline with an error event", async () => {
    const r = await post(
      system.apiKey,
      body({
        model: "sea-drip",
        stream: true,
        messages: [{ role: "user", content: "a b c d e f g h i j" }],
      }),
    );
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain('"content":"a "');
    expect(text).toContain('"code":"deadline_exceeded"');
    expect(text).not.toContain("[DONE]");
  });

  it("drops a slow sender once the request has taken too long to arrive (408)", async () => {
    const url = new URL(system.baseURL);
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, "connect");
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${system.apiKey}\r\n` +
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    );
    let answer = "";
    socket.on("data", (d: Buffer) => (answer += d.toString()));
    const started = Date.now();
    // Trickle one byte at a time, never finishing the body.
    const trickle = setInterval(() => socket.writable && socket.write(" "), 100);
    await once(socket, "close");
    clearInterval(trickle);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("sheds load with 503 and retry-after while the event loop lags, then recovers", async () => {
    const until = Date.now() + 700;
    while (Date.now() < until) {
      // Block this process's event loop (the gateway runs in it) as an overload would.
    }
    await new Promise((r) => setTimeout(r, 50));
    const shed = await post(system.apiKey, body());
    expect(shed.status).toBe(503);
    expect(Number(shed.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await eventually(
      async () => (await post(system.apiKey, body())).status === 200,
      5_000,
      "recovery",
    );
  });
});
