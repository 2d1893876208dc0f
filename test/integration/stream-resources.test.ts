import { randomUUID } from "node:crypto";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld, eventually, TEST_SECRET } from "../helpers/env.js";
import { countingHandler, gateHandler, slowStartHandler } from "../helpers/handlers.js";
import { readSse } from "../helpers/sse-reader.js";
import { sseError } from "../helpers/sse.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";
import { MockUpstream } from "../helpers/mock-upstream.js";
import { openaiUpstreamHandler } from "../../adapters/handlers/openai-upstream.js";
import { zedProblems } from "../helpers/zed-checker.js";
import { sdkClient } from "../helpers/zed-fetch.js";

// Streams as resources: status and stored completions, resume the conventional ways on any
// gateway instance, cancel, background mode, the cancel grace, idempotent retries.
const world = createTestWorld("streamres");
let system: TestSystem;
let other: { baseURL: string };
const TEXT = Array.from({ length: 16 }, (_, i) => `w${i + 1}`).join(" ");
const counts = new Map<string, number>();
const gate = gateHandler("gate");

const drip = { ...echoHandler(120), name: "drip" };
const upstream = new MockUpstream();

beforeAll(async () => {
  await upstream.start();
  system = await startTestSystem(
    world,
    testCatalog([
      { id: "sea-drip", context: "sea", handler: "drip" },
      { id: "sea-late", context: "sea", handler: "late" },
      { id: "sea-gate", context: "sea", handler: "gate" },
      { id: "vibespro-count", context: "vibespro", handler: "count" },
      { id: "sea-model", context: "sea", handler: "openai", upstream_model: "slow" },
    ]),
    { STREAM_CANCEL_GRACE_MS: "1500" },
  );
  // Only SEA has workers at first: VibesPro commands stay queued until a test starts them.
  await system.startWorkers(
    new HandlerRegistry()
      .register(echoHandler())
      .register(drip)
      .register(slowStartHandler("late", 700))
      .register(gate.handler)
      .register(openaiUpstreamHandler({ baseUrl: upstream.baseUrl })),
    ["sea"],
  );
  other = await system.startGateway();
});

afterAll(async () => {
  await system?.stop();
  await upstream.stop();
  await world.cleanup();
});

const auth = (key = system.apiKey) => ({ authorization: `Bearer ${key}` });
const jsonHeaders = (extra: Record<string, string> = {}) => ({
  ...auth(),
  "content-type": "application/json",
  ...extra,
});
const chat = (model: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, messages: [{ role: "user", content: TEXT }], ...extra });

/** POSTs a streamed chat on the first gateway. */
function postStream(
  model: string,
  opts: { dropAfterChunks?: number; dropAfterMs?: number; headers?: Record<string, string> } = {},
) {
  return readSse(
    `${system.baseURL}/chat/completions`,
    {
      method: "POST",
      headers: jsonHeaders(opts.headers),
      body: chat(model, { stream: true }),
    },
    opts,
  );
}

/** Resumes a stream on the second gateway. */
function resume(streamId: string, opts: { lastEventId?: number; startingAfter?: number } = {}) {
  const q = opts.startingAfter !== undefined ? `?starting_after=${opts.startingAfter}` : "";
  const headers: Record<string, string> = auth();
  if (opts.lastEventId !== undefined) headers["last-event-id"] = String(opts.lastEventId);
  return readSse(`${other.baseURL}/chat/completions/${streamId}/events${q}`, { headers });
}

/** The statuses of a stream that has not ended. */
const RUNNING: unknown[] = ["queued", "in_progress"];

async function status(streamId: string, base = system.baseURL, key = system.apiKey) {
  const r = await fetch(`${base}/chat/completions/${streamId}`, { headers: auth(key) });
  return { code: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe("resume after a dropped connection, on another gateway instance", () => {
  it("mid-stream, with Last-Event-ID: the joined text is the whole answer", async () => {
    const first = await postStream("sea-drip", { dropAfterChunks: 5 });
    expect(first.dropped).toBe(true);
    expect(first.lastId).toBe(5);
    const streamId = first.headers.get("x-stream-id")!;
    const rest = await resume(streamId, { lastEventId: first.lastId });
    expect(rest.status).toBe(200);
    expect(first.text + rest.text).toBe(TEXT);
    expect(rest.body.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(zedProblems(rest.body)).toEqual([]);
  });

  it("mid-stream, with starting_after", async () => {
    const first = await postStream("sea-drip", { dropAfterChunks: 3 });
    const rest = await resume(first.headers.get("x-stream-id")!, { startingAfter: first.lastId });
    expect(first.text + rest.text).toBe(TEXT);
  });

  it("before the first token: a client-chosen stream id finds it again", async () => {
    const streamId = randomUUID();
    const first = await postStream("sea-late", {
      dropAfterMs: 250,
      headers: { "x-stream-id": streamId },
    });
    expect(first.dropped).toBe(true);
    expect(first.text).toBe("");
    const rest = await resume(streamId, { startingAfter: 0 });
    expect(rest.text).toBe(TEXT);
  });

  it("after the end: a resume replays it and ends with [DONE]", async () => {
    const whole = await postStream("sea");
    expect(whole.text).toBe(TEXT);
    const streamId = whole.headers.get("x-stream-id")!;
    const replay = await resume(streamId);
    expect(replay.text).toBe(TEXT);
    const tail = await resume(streamId, { lastEventId: whole.lastId });
    expect(tail.text).toBe("");
    expect(tail.body.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("answers a bad cursor with a 400 naming it", async () => {
    const whole = await postStream("sea");
    const r = await fetch(
      `${other.baseURL}/chat/completions/${whole.headers.get("x-stream-id")}/events?starting_after=-1`,
      { headers: auth() },
    );
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { param: "starting_after" } });
  });
});

describe("status and stored completions", () => {
  it("follows the life-cycle: queued, in_progress, completed, from either instance", async () => {
    const started = fetch(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: jsonHeaders({ "idempotency-key": `gate-${randomUUID()}` }),
      body: chat("sea-gate", { background: true }),
    });
    const r = await started;
    expect(r.status).toBe(202);
    const streamId = r.headers.get("x-stream-id")!;
    expect(await r.json()).toMatchObject({ status: "queued", stream_id: streamId });
    await gate.entered;
    expect((await status(streamId, other.baseURL)).body.status).toBe("queued");
    gate.open();
    const done = await eventually(async () => {
      const s = await status(streamId, other.baseURL);
      return s.body.status === "completed" ? s.body : null;
    });
    expect(done).toMatchObject({
      id: `chatcmpl-${streamId}`,
      object: "chat.completion",
      model: "sea-gate",
      background: true,
      choices: [{ message: { role: "assistant", content: TEXT }, finish_reason: "stop" }],
      usage: { completion_tokens: 16 },
    });
    // The OpenAI SDK's stored-completion call reads it too.
    const sdk = sdkClient(other.baseURL, system.apiKey);
    const stored = await sdk.chat.completions.retrieve(`chatcmpl-${streamId}`);
    expect(stored.choices[0]!.message.content).toBe(TEXT);
  });

  it("shows the answer so far while it runs", async () => {
    const first = await postStream("sea-drip", { dropAfterChunks: 4 });
    const streamId = first.headers.get("x-stream-id")!;
    // Resumed within the grace on the other instance: it keeps running.
    const follower = resume(streamId, { lastEventId: 4 });
    const mid = await status(streamId, other.baseURL);
    expect(mid.body.status).toBe("in_progress");
    const content = (mid.body.choices as { message: { content: string } }[])[0]!.message.content;
    expect(TEXT.startsWith(content)).toBe(true);
    expect(mid.body.usage).toBeNull();
    await follower;
  });

  it("gives another tenant the same 404 as a missing id", async () => {
    const whole = await postStream("sea");
    const streamId = whole.headers.get("x-stream-id")!;
    const globex = await mintKey(TEST_SECRET, { tenant: "globex", ttlSecs: 600 });
    const foreign = await status(streamId, system.baseURL, globex);
    const missing = await status(randomUUID(), system.baseURL, globex);
    expect(foreign.code).toBe(404);
    expect(missing.code).toBe(404);
    expect(foreign.body.error).toMatchObject({ code: "stream_not_found" });
    expect(Object.keys(foreign.body)).toEqual(Object.keys(missing.body));
  });
});

describe("cancel", () => {
  it("keeps a queued command from ever starting", async () => {
    const r = await fetch(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: jsonHeaders(),
      body: chat("vibespro-count", { background: true }),
    });
    expect(r.status, await r.clone().text()).toBe(202);
    const streamId = r.headers.get("x-stream-id")!;
    const cancel = await fetch(`${system.baseURL}/chat/completions/${streamId}/cancel`, {
      method: "POST",
      headers: auth(),
    });
    const cancelled = await cancel.json();
    expect(cancel.status, JSON.stringify(cancelled)).toBe(200);
    expect(cancelled).toMatchObject({ status: "cancelled", stream_id: streamId });
    // Now the context's workers come up: the cancel is taken first, the command never runs.
    await system.startWorkers(
      new HandlerRegistry().register(echoHandler()).register(countingHandler("count", counts)),
      ["vibespro"],
    );
    const final = await eventually(async () => {
      const s = await status(streamId);
      return (s.body.error as { code?: string } | null)?.code === "cancelled" ? s.body : null;
    });
    expect(final.status).toBe("cancelled");
    // A later count would show a start: give the command time to arrive at a worker.
    await new Promise((res) => setTimeout(res, 500));
    expect(counts.get(streamId) ?? 0).toBe(0);
  });

  it("stops a stream mid-way, aborting the upstream model, and is idempotent", async () => {
    const streamId = randomUUID();
    const reading = postStream("sea-model", { headers: { "x-stream-id": streamId } });
    await eventually(async () => (await status(streamId)).body.status === "in_progress");
    const cancel = () =>
      fetch(`${other.baseURL}/chat/completions/${streamId}/cancel`, {
        method: "POST",
        headers: auth(),
      });
    const first = await cancel();
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: "cancelled" });
    const read = await reading;
    expect(sseError(read.body)).toMatchObject({ code: "cancelled" });
    await eventually(() => upstream.calls.at(-1)?.aborted, 5_000, "upstream abort");
    const again = await cancel();
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "cancelled" });
    // One cancel command, however often it was asked for.
    expect(await system.outboxCount("chat_cancel")).toBeGreaterThanOrEqual(1);
    const cancels = await system.runtime.pools.sea.query(
      "SELECT count(*)::int AS n FROM outbox_events WHERE event_type = 'chat_cancel' AND aggregate_id = $1",
      [streamId],
    );
    expect(cancels.rows[0].n).toBe(1);
  });

  it("leaves a completed stream completed", async () => {
    const whole = await postStream("sea");
    const streamId = whole.headers.get("x-stream-id")!;
    const r = await fetch(`${system.baseURL}/chat/completions/${streamId}/cancel`, {
      method: "POST",
      headers: auth(),
    });
    expect(await r.json()).toMatchObject({ status: "completed" });
  });
});

describe("background mode", () => {
  it("answers 202 at once; the answer is read later, never cancelled by a disconnect", async () => {
    const r = await fetch(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: jsonHeaders(),
      body: chat("sea-drip", { background: true }),
    });
    expect(r.status).toBe(202);
    const streamId = r.headers.get("x-stream-id")!;
    expect(await r.json()).toMatchObject({ object: "chat.completion", background: true });
    // Polled until it is no longer running, whatever it ended as: then it must be completed.
    const ended = await eventually(
      async () => {
        const b = (await status(streamId, other.baseURL)).body;
        return RUNNING.includes(b.status) ? null : b;
      },
      10_000,
      "background stream to end",
    );
    expect(ended.status).toBe("completed");
    const replay = await resume(streamId);
    expect(replay.text).toBe(TEXT);
  });

  it("streams too, and a disconnect does not cancel it", async () => {
    const first = await readSse(
      `${system.baseURL}/chat/completions`,
      {
        method: "POST",
        headers: jsonHeaders(),
        body: chat("sea-drip", { stream: true, background: true }),
      },
      { dropAfterChunks: 2 },
    );
    const streamId = first.headers.get("x-stream-id")!;
    // Well past the cancel grace: still running, then completed.
    await new Promise((res) => setTimeout(res, 1_800));
    const s = await eventually(async () => {
      const b = (await status(streamId)).body;
      return RUNNING.includes(b.status) ? null : b;
    });
    expect(s.status).toBe("completed");
  });
});

describe("the cancel grace (STREAM_CANCEL_GRACE_MS)", () => {
  it("keeps the answer running for a client that resumes within it", async () => {
    const first = await postStream("sea-drip", { dropAfterChunks: 3 });
    const streamId = first.headers.get("x-stream-id")!;
    await new Promise((res) => setTimeout(res, 600));
    const rest = await resume(streamId, { lastEventId: first.lastId });
    expect(first.text + rest.text).toBe(TEXT);
    expect((await status(streamId)).body.status).toBe("completed");
  });

  it("cancels it once the grace has passed with nobody reading", async () => {
    // An answer far longer than the grace (60 words, 120 ms apart): the cancel must stop it.
    const long = Array.from({ length: 60 }, (_, i) => `v${i}`).join(" ");
    const first = await readSse(
      `${system.baseURL}/chat/completions`,
      {
        method: "POST",
        headers: jsonHeaders(),
        body: JSON.stringify({
          model: "sea-drip",
          stream: true,
          messages: [{ role: "user", content: long }],
        }),
      },
      { dropAfterChunks: 2 },
    );
    const streamId = first.headers.get("x-stream-id")!;
    const s = await eventually(
      async () => {
        const b = (await status(streamId)).body;
        return (b.error as { code?: string } | null)?.code === "cancelled" ? b : null;
      },
      8_000,
      "cancelled after the grace",
    );
    expect(s.status).toBe("cancelled");
    const content = (s.choices as { message: { content: string } }[])[0]!.message.content;
    expect(content.length).toBeLessThan(long.length);
  });
});

describe("idempotent retries", () => {
  it("attaches a retry with the same Idempotency-Key to the same stream", async () => {
    const key = `retry-${randomUUID()}`;
    const a = await postStream("sea", { headers: { "idempotency-key": key } });
    const b = await readSse(`${other.baseURL}/chat/completions`, {
      method: "POST",
      headers: jsonHeaders({ "idempotency-key": key }),
      body: chat("sea", { stream: true }),
    });
    expect(b.headers.get("x-stream-id")).toBe(a.headers.get("x-stream-id"));
    expect(b.text).toBe(TEXT);
    const commands = await system.runtime.pools.sea.query(
      "SELECT count(*)::int AS n FROM outbox_events WHERE event_type = 'chat_completion' AND aggregate_id = $1",
      [a.headers.get("x-stream-id")],
    );
    expect(commands.rows[0].n).toBe(1);
    // The SDK's non-streaming retry gets the same answer as JSON.
    const sdk = new OpenAI({ baseURL: other.baseURL, apiKey: system.apiKey, maxRetries: 0 });
    const again = await sdk.chat.completions.create(
      { model: "sea", messages: [{ role: "user", content: TEXT }] },
      { headers: { "idempotency-key": key } },
    );
    expect(again.id).toBe(`chatcmpl-${a.headers.get("x-stream-id")}`);
  });

  it("refuses the same key with another request (422)", async () => {
    const key = `retry-${randomUUID()}`;
    await postStream("sea", { headers: { "idempotency-key": key } });
    const r = await fetch(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: jsonHeaders({ "idempotency-key": key }),
      body: JSON.stringify({ model: "sea", messages: [{ role: "user", content: "other" }] }),
    });
    expect(r.status).toBe(422);
    expect(await r.json()).toMatchObject({ error: { code: "idempotency_key_reused" } });
  });

  it("keeps another tenant's same key apart", async () => {
    const key = `shared-${randomUUID()}`;
    const a = await postStream("sea", { headers: { "idempotency-key": key } });
    const globex = await mintKey(TEST_SECRET, { tenant: "globex", ttlSecs: 600 });
    const b = await readSse(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${globex}`,
        "content-type": "application/json",
        "idempotency-key": key,
      },
      body: JSON.stringify({
        model: "sea",
        stream: true,
        messages: [{ role: "user", content: "mine" }],
      }),
    });
    expect(b.status).toBe(200);
    expect(b.text).toBe("mine");
    expect(b.headers.get("x-stream-id")).not.toBe(a.headers.get("x-stream-id"));
  });
});
