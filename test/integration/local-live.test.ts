import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HandlerRegistry, type ChatHandler } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld } from "../helpers/env.js";
import { readSse } from "../helpers/sse-reader.js";
import { sseEvents } from "../helpers/sse.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

// In-process live delivery (`up`: the gateway and the workers answering it in one process):
// readers there take the worker's live results directly instead of back over NATS, and every
// reader, here or on another instance, still gets every chunk exactly once, in order.
const world = createTestWorld("locallive");
const WORDS = 60;
const TEXT = Array.from({ length: WORDS }, (_, i) => `w${i + 1}`).join(" ");
const drip = { ...echoHandler(25), name: "drip" };
const echo = echoHandler(25);

/** Streams 5 words, then fails transiently on its first attempt; the retry answers whole. */
const stumble: ChatHandler = {
  name: "stumble",
  sideEffects: "none",
  handle: async (cmd, ctx) => {
    if (ctx.attempt > 1) return echo.handle(cmd, ctx);
    let sent = 0;
    await echo.handle(cmd, {
      ...ctx,
      emit: async (d) => {
        if (++sent > 5) throw new Error("upstream connection reset");
        await ctx.emit(d);
      },
    });
    throw new Error("unreachable: the emit above throws");
  },
};

let system: TestSystem;
let other: Awaited<ReturnType<TestSystem["startGateway"]>>;

beforeAll(async () => {
  system = await startTestSystem(
    world,
    testCatalog([
      { id: "sea-drip", context: "sea", handler: "drip" },
      { id: "sea-stumble", context: "sea", handler: "stumble" },
    ]),
  );
  // The workers run in the gateway's own runtime, as in `sea-gateway up`.
  const handlers = new HandlerRegistry().register(echoHandler()).register(drip).register(stumble);
  await system.runtime.startWorker("sea", handlers);
  await system.runtime.startWorker("vibespro", handlers);
  other = await system.startGateway();
});

afterAll(async () => {
  await system?.stop();
  await world.cleanup();
});

const headers = () => ({
  authorization: `Bearer ${system.apiKey}`,
  "content-type": "application/json",
});
const body = (model: string) =>
  JSON.stringify({ model, stream: true, messages: [{ role: "user", content: TEXT }] });
const ids = (sse: string) =>
  sseEvents(sse)
    .map((e) => e.id)
    .filter((id): id is number => id !== undefined);
const oneToN = Array.from({ length: WORDS }, (_, i) => i + 1);
/** Messages a runtime's NATS connection has received so far. */
const received = (r: TestSystem["runtime"]) => r.nc.stats().inMsgs;

describe("live results within one process", () => {
  it("reach a reader of the worker's own process directly: every chunk once, in order, none over NATS", async () => {
    const before = received(system.runtime);
    const read = await readSse(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: headers(),
      body: body("sea-drip"),
    });
    const overNats = received(system.runtime) - before;
    expect(read.status).toBe(200);
    expect(read.text).toBe(TEXT);
    expect(ids(read.body)).toEqual(oneToN);
    expect(read.body.endsWith("data: [DONE]\n\n")).toBe(true);
    // Over NATS this process got its command, acks and heartbeats; not the 60 live deltas.
    expect(overNats).toBeLessThan(WORDS / 2);
  });

  it("still reach a reader on another instance, joining mid-stream: the same sequence, exactly once", async () => {
    const res = await fetch(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: headers(),
      body: body("sea-drip"),
    });
    const streamId = res.headers.get("x-stream-id")!;
    const before = received(other.runtime);
    const elsewhere = await readSse(`${other.baseURL}/chat/completions/${streamId}/events`, {
      headers: { authorization: `Bearer ${system.apiKey}` },
    });
    const here = await res.text();
    expect(elsewhere.text).toBe(TEXT);
    expect(ids(elsewhere.body)).toEqual(oneToN);
    expect(ids(here)).toEqual(oneToN);
    // The other instance has no worker: what it read live came over NATS.
    expect(received(other.runtime) - before).toBeGreaterThan(WORDS / 2);
  });

  it("a local attempt that ends without an answer: the reader goes on with the retry, nothing repeated", async () => {
    const read = await readSse(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: headers(),
      body: body("sea-stumble"),
    });
    expect(read.text).toBe(TEXT);
    expect(ids(read.body)).toEqual(oneToN);
  });

  it("serve the OpenAI SDK's stream whole", async () => {
    const client = new OpenAI({ baseURL: system.baseURL, apiKey: system.apiKey });
    const stream = await client.chat.completions.create({
      model: "sea-drip",
      stream: true,
      messages: [{ role: "user", content: TEXT }],
    });
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(TEXT);
    expect(finish).toBe("stop");
  });
});
