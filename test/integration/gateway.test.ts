import { randomUUID } from "node:crypto";
import { connect, type JetStreamManager, type NatsConnection } from "nats";
import { SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subjectSpace, type SubjectSpace } from "../../contracts/index.js";
import { JetStreamPublisher } from "../../adapters/nats/publisher.js";
import { NatsResultFeed } from "../../adapters/nats/result-feed.js";
import { provisionStreams } from "../../adapters/nats/streams.js";
import type { Delivery } from "../../src/gateway/runs/attempt-sequencer.js";
import { RunFeed } from "../../src/gateway/runs/run-feed.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { resultEnvelope } from "../../src/worker/result-events.js";
import { createTestWorld, SYSTEM, TEST_SECRET, testLog } from "../helpers/env.js";
import { slowStartHandler } from "../helpers/handlers.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

const world = createTestWorld("gw");
let system: TestSystem;
let nc: NatsConnection;
let jsm: JetStreamManager;
let subjects: SubjectSpace;

const chatBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: "sea", messages: [{ role: "user", content: "hi there" }], ...extra });

async function post(body: string, auth: string | null = `Bearer ${system.apiKey}`) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth !== null) headers.authorization = auth;
  return fetch(`${system.baseURL}/chat/completions`, { method: "POST", headers, body });
}

beforeAll(async () => {
  system = await startTestSystem(
    world,
    testCatalog([{ id: "sea-slow", context: "sea", handler: "slow" }]),
    { SSE_KEEPALIVE_MS: "150" },
  );
  await system.startWorkers(
    new HandlerRegistry().register(echoHandler()).register(slowStartHandler("slow", 500)),
  );
  subjects = subjectSpace(world.namespace);
  nc = await connect({ servers: SYSTEM.nats });
  jsm = await nc.jetstreamManager();
});

afterAll(async () => {
  await system?.stop();
  await nc?.close();
  await world.cleanup();
});

describe("gateway HTTP", () => {
  it("is live, and ready only while streams and migrations are in place", async () => {
    const root = system.baseURL.replace(/\/v1$/, "");
    expect((await fetch(`${root}/health/live`)).status).toBe(200);
    const ready = await fetch(`${root}/health/ready`);
    expect(ready.status).toBe(200);
    await jsm.streams.delete(subjects.eventStream("vibespro"));
    const notReady = await fetch(`${root}/health/ready`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({
      status: "not_ready",
      checks: expect.arrayContaining([{ name: "streams", ok: false, error: expect.any(String) }]),
    });
    await provisionStreams(jsm, subjects, "vibespro");
    expect((await fetch(`${root}/health/ready`)).status).toBe(200);
  });

  it("refuses missing and forged keys with 401 and writes nothing", async () => {
    const before = await system.outboxCount();
    const now = Math.floor(Date.now() / 1000);
    const secret = new TextEncoder().encode(TEST_SECRET);
    const sign = (claims: Record<string, unknown>, key = secret) =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(key);
    const forged = [
      null,
      "Basic abc",
      "Bearer not.a.jwt",
      `Bearer ${new UnsecuredJWT({ tenant: "acme", exp: now + 60 }).encode()}`,
      `Bearer ${await sign({ tenant: "acme", exp: now + 60 }, new TextEncoder().encode("x".repeat(40)))}`,
      `Bearer ${await sign({ tenant: "acme", exp: now - 60 })}`,
      `Bearer ${await sign({ tenant: "acme" })}`,
      `Bearer ${await sign({ tenant: "ac.me", exp: now + 60 })}`,
    ];
    for (const auth of forged) {
      const r = await post(chatBody(), auth);
      expect(r.status, String(auth)).toBe(401);
      expect(await r.json()).toMatchObject({ error: { code: "invalid_api_key" } });
    }
    expect(await system.outboxCount()).toBe(before);
  });

  it.each([
    ["no messages", JSON.stringify({ model: "sea", messages: [] }), 400],
    [
      "a bad role",
      JSON.stringify({ model: "sea", messages: [{ role: "robot", content: "x" }] }),
      400,
    ],
    ["a string body", JSON.stringify("hello"), 400],
    ["n=3", chatBody({ n: 3 }), 400],
    ["an unknown model", chatBody({ model: "gpt-nope" }), 404],
    ["a body over the limit", chatBody({ pad: "x".repeat(600 * 1024) }), 413],
  ])("answers %s with %i and writes nothing", async (_what, body, status) => {
    const before = await system.outboxCount();
    const r = await post(body);
    expect(r.status).toBe(status);
    const json = (await r.json()) as { error: { message: string } };
    expect(json.error.message).toBeTruthy();
    expect(await system.outboxCount()).toBe(before);
  });

  it("sends keep-alive comments while the capability is quiet, with anti-buffering headers", async () => {
    const r = await post(chatBody({ model: "sea-slow", stream: true }));
    expect(r.status).toBe(200);
    expect(r.headers.get("x-accel-buffering")).toBe("no");
    expect(r.headers.get("cache-control")).toBe("no-cache");
    expect(r.headers.get("x-stream-id")).toBeTruthy();
    const text = await r.text();
    const firstContent = text.indexOf('"content":"hi ');
    const keepAlive = text.indexOf(": keep-alive\n\n");
    expect(keepAlive).toBeGreaterThan(-1);
    expect(keepAlive).toBeLessThan(firstContent);
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("tolerates unknown request fields", async () => {
    const r = await post(chatBody({ some_future_field: { a: 1 }, logit_bias: {} }));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ choices: [{ message: { content: "hi there" } }] });
  });

  it("creates no JetStream consumer per request", async () => {
    await Promise.all(
      Array.from({ length: 5 }, () => post(chatBody({ stream: true })).then((r) => r.text())),
    );
    const eventConsumers = await jsm.consumers.list(subjects.eventStream("sea")).next();
    const commandConsumers = await jsm.consumers.list(subjects.commandStream("sea")).next();
    expect(eventConsumers).toHaveLength(0);
    expect(commandConsumers.map((c) => c.name)).toEqual([subjects.workerDurable("sea")]);
  });
});

/** Follows a stream's results until its terminal event; resolves with what was delivered. */
async function follow(subject: string): Promise<{ done: Promise<Delivery[]> }> {
  const got: Delivery[] = [];
  let finish!: (d: Delivery[]) => void;
  const done = new Promise<Delivery[]>((r) => (finish = r));
  const live = subject.replace(".event.", ".live.");
  const feedSubjects = { stored: subject, live };
  await RunFeed.open(
    new NatsResultFeed(nc, jsm, subjects, testLog),
    "sea",
    feedSubjects,
    testLog,
    (batch) => {
      got.push(...batch);
      if (batch.some((d) => d.kind === "completed" || d.kind === "failed")) finish(got);
    },
  );
  return { done };
}

const show = (ds: Delivery[]) =>
  ds.map((e) => (e.kind === "reset" ? "reset" : `${e.kind}:${e.seq}`));

describe("result stream", () => {
  it("fills events it missed live from the stream, in order", async () => {
    const streamId = randomUUID();
    const subject = subjects.result("sea", "acme", streamId);
    const publisher = new JetStreamPublisher(nc.jetstream());
    const origin = { tenant: "acme", streamId, correlationId: "c", causationId: "k", attempt: 1 };
    const publish = (seq: number, env: object) =>
      publisher.publish(
        subject,
        new TextEncoder().encode(JSON.stringify(env)),
        `${streamId}:${seq}`,
        {
          correlationId: "c",
          causationId: "k",
          tenantId: "acme",
        },
      );
    // Deltas 1 and 2 are published before the gateway listens: only the stream has them.
    await publish(1, resultEnvelope(origin, "delta", 1, { content: "a " }));
    await publish(2, resultEnvelope(origin, "delta", 2, { content: "b " }));
    const results = await follow(subject);
    await publish(3, resultEnvelope(origin, "delta", 3, { content: "c" }));
    await publish(
      4,
      resultEnvelope(origin, "completed", 4, {
        message: { role: "assistant", content: "a b c" },
        finish_reason: "stop",
        usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
      }),
    );
    expect(show(await results.done)).toEqual(["delta:1", "delta:2", "delta:3", "completed:4"]);
  });

  it("recovers a stream whose every live message was missed", async () => {
    const streamId = randomUUID();
    const subject = subjects.result("sea", "acme", streamId);
    const publisher = new JetStreamPublisher(nc.jetstream());
    const origin = { tenant: "acme", streamId, correlationId: "c", causationId: "k", attempt: 1 };
    const h = { correlationId: "c", causationId: "k", tenantId: "acme" };
    const enc = (v: object) => new TextEncoder().encode(JSON.stringify(v));
    await publisher.publish(
      subject,
      enc(resultEnvelope(origin, "delta", 1, { content: "x" })),
      `${streamId}:1`,
      h,
    );
    await publisher.publish(
      subject,
      enc(
        resultEnvelope(origin, "failed", 2, {
          error: { message: "boom", type: "server_error", code: null, status: 502 },
        }),
      ),
      `${streamId}:2`,
      h,
    );
    const results = await follow(subject);
    expect(show(await results.done)).toEqual(["delta:1", "failed:2"]);
  });
});
