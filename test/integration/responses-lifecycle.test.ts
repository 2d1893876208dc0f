import { once } from "node:events";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createTestWorld, eventually, TEST_SECRET } from "../helpers/env.js";
import { MockUpstream } from "../helpers/mock-upstream.js";
import type { TestSystem } from "../helpers/system.js";
import { startUpstreamSystem } from "../helpers/upstream-system.js";

/**
 * A response's life as a durable run: background responses that survive the gateway serving
 * them and resume by `starting_after` on another instance with no event missing or repeated,
 * cancel (background only, idempotent), the same run over the other surfaces, tenancy, and
 * bad input that writes nothing.
 */
const world = createTestWorld("resplife");
const upstream = new MockUpstream();
let system: TestSystem;
let client: OpenAI;

beforeAll(async () => {
  await upstream.start();
  system = await startUpstreamSystem(world, upstream, ["text", "slow"]);
  client = new OpenAI({ apiKey: system.apiKey, baseURL: system.baseURL, maxRetries: 0 });
});

afterAll(async () => {
  await system?.stop();
  await upstream.stop();
  await world.cleanup();
});

type Event = { type: string; sequence_number: number; delta?: string };

/** Reads a response's SSE events from a raw fetch (to stop reading at will). */
async function* events(res: Response): AsyncGenerator<Event> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let at: number;
      while ((at = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const data = frame.split("\n").find((l) => l.startsWith("data: "));
        if (data) yield JSON.parse(data.slice(6)) as Event;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const auth = { authorization: `Bearer ` };
const post = (baseURL: string, body: unknown, key = system.apiKey) =>
  fetch(`${baseURL}/responses`, {
    method: "POST",
    headers: { ...auth, authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("background responses", () => {
  it("answer at once as queued, run on without a reader, and are read later", async () => {
    const r = await client.responses.create({ model: "up-text", input: "hi", background: true });
    expect(["queued", "in_progress"]).toContain(r.status);
    expect(r.background).toBe(true);
    const done = await eventually(async () => {
      const o = await client.responses.retrieve(r.id);
      return o.status === "completed" ? o : null;
    });
    expect(done.output_text).toBe("Hello from upstream.");
  });

  it("survive the gateway that streamed them: resumed on another instance after N, nothing missing or repeated", async () => {
    const a = await system.startGateway();
    const b = await system.startGateway();
    const res = await post(a.baseURL, {
      model: "up-slow",
      input: "tick",
      background: true,
      stream: true,
    });
    expect(res.status).toBe(200);
    const seen: Event[] = [];
    for await (const e of events(res)) {
      seen.push(e);
      if (e.type === "response.output_text.delta" && seen.filter((x) => x.delta).length >= 5) break;
    }
    const id = (seen[0] as unknown as { response: { id: string } }).response.id;
    expect(seen[0]!.type).toBe("response.created");
    // The instance that served the stream goes away; the background response goes on.
    await a.runtime.stop(1_000);
    const last = seen.at(-1)!.sequence_number;
    const resumed = await fetch(`${b.baseURL}/responses/${id}?stream=true&starting_after=${last}`, {
      headers: { authorization: `Bearer ${system.apiKey}` },
    });
    const rest: Event[] = [];
    for await (const e of events(resumed)) rest.push(e);
    expect(rest.at(-1)!.type).toBe("response.completed");
    const numbers = [...seen, ...rest].map((e) => e.sequence_number);
    expect(numbers).toEqual(numbers.map((_, i) => i));
    const text = [...seen, ...rest].map((e) => e.delta ?? "").join("");
    expect(text).toBe(Array.from({ length: 100 }, (_, i) => `tick${i} `).join(""));
    // A full replay is the same events, numbered the same.
    const replay: Event[] = [];
    const again = await fetch(`${b.baseURL}/responses/${id}?stream=true`, {
      headers: { authorization: `Bearer ${system.apiKey}` },
    });
    for await (const e of events(again)) replay.push(e);
    expect(replay.map((e) => [e.type, e.sequence_number, e.delta])).toEqual(
      [...seen, ...rest].map((e) => [e.type, e.sequence_number, e.delta]),
    );
    await b.runtime.stop(1_000);
  }, 60_000);

  it("cancel: background only, idempotent, the run really stops", async () => {
    const r = await client.responses.create({ model: "up-slow", input: "x", background: true });
    await eventually(() => upstream.calls.find((c) => c.body.model === "slow" && !c.finished));
    const cancelled = await client.responses.cancel(r.id);
    expect(cancelled.status).toBe("cancelled");
    expect((await client.responses.cancel(r.id)).status).toBe("cancelled");
    await eventually(async () => (await client.responses.retrieve(r.id)).status === "cancelled");
    await eventually(() =>
      upstream.calls.filter((c) => c.body.model === "slow").every((c) => c.aborted || c.finished),
    );
    const sync = await client.responses.create({ model: "up-text", input: "hi" });
    await expect(client.responses.cancel(sync.id)).rejects.toMatchObject({ status: 400 });
  }, 30_000);
});

describe("the run behind a response, over the other surfaces", () => {
  it("is a stream: chat events and the WebSocket subscribe follow it", async () => {
    const r = await client.responses.create({ model: "up-text", input: "hi" });
    const events = await fetch(`${system.baseURL}/chat/completions/${r.id}/events`, {
      headers: { authorization: `Bearer ${system.apiKey}` },
    });
    expect(events.status).toBe(200);
    const text = await events.text();
    expect(text).toContain("Hello");
    expect(text).toContain("[DONE]");
    const ws = new WebSocket(`${system.baseURL.replace("http", "ws")}/ws`, ["sea.v1"], {
      headers: { authorization: `Bearer ${system.apiKey}` },
    });
    const got: { type: string; status?: string }[] = [];
    ws.on("message", (d) => got.push(JSON.parse(String(d)) as (typeof got)[number]));
    await once(ws, "open");
    ws.send(JSON.stringify({ type: "subscribe", stream_id: r.id }));
    await eventually(() => got.find((m) => m.type === "done"));
    expect(got.find((m) => m.type === "done")!.status).toBe("completed");
    ws.close();
  });
});

describe("tenancy and bad input", () => {
  it("another tenant's response is exactly a missing one", async () => {
    const r = await client.responses.create({ model: "up-text", input: "hi" });
    const other = await mintKey(TEST_SECRET, { tenant: "other", ttlSecs: 600 });
    const get = (id: string) =>
      fetch(`${system.baseURL}/responses/${id}`, { headers: { authorization: `Bearer ${other}` } });
    const foreign = await get(r.id);
    const missing = await get("resp_00000000-0000-0000-0000-000000000000");
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    const [a, b] = [await foreign.json(), await missing.json()] as { error: { message: string } }[];
    expect(a!.error.message.replace(r.id, "ID")).toBe(
      b!.error.message.replace("resp_00000000-0000-0000-0000-000000000000", "ID"),
    );
  });

  it.each([
    ["no model", { input: "hi" }, "model"],
    ["input of a wrong type", { model: "up-text", input: 42 }, "input"],
    ["an unknown item type", { model: "up-text", input: [{ type: "teleport" }] }, "input[0].type"],
    ["an unknown model", { model: "nope", input: "hi" }, "model"],
    [
      "text.format for a model that cannot honour it",
      { model: "sea", input: "hi", text: { format: { type: "json_object" } } },
      "text.format",
    ],
  ])("%s: 4xx naming %s, nothing written", async (_, body, param) => {
    const before = await system.outboxCount();
    const r = await post(system.baseURL, body);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(((await r.json()) as { error: { param: string } }).error.param).toBe(param);
    expect(await system.outboxCount()).toBe(before);
  });
});
