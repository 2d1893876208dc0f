import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect as natsConnect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { subjectSpace, type SubjectSpace } from "../../contracts/index.js";
import { insertOutbox } from "../../adapters/postgres/outbox-sql.js";
import { contextHandlers } from "../../bin/handlers.js";
import { buildChatCommand } from "../../src/gateway/commands/chat-command.js";
import { createTestWorld, eventually, SYSTEM } from "../helpers/env.js";
import { slowStartHandler } from "../helpers/handlers.js";
import { capturingLog } from "../helpers/log-capture.js";
import { rawHttp } from "../helpers/raw-http.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

/**
 * Hostile input, one defect of the fuzzing report at a time (issue 22): each gets a fast, clear
 * 4xx in the OpenAI shape, nothing is written for it, and no error-level line is logged.
 */
const world = createTestWorld("hostile");
const captured = capturingLog();
let system: TestSystem;
let port: number;
let subjects: SubjectSpace;
let nc: NatsConnection;

beforeAll(async () => {
  system = await startTestSystem(
    world,
    testCatalog([{ id: "sea-slow", context: "sea", handler: "slow" }]),
    { MAX_BODY_BYTES: "65536" },
    { log: captured.log },
  );
  const config = world.config();
  await system.startWorkers(
    contextHandlers(config, "sea").register(slowStartHandler("slow", 1_500)),
    ["sea"],
  );
  await system.startWorkers(contextHandlers(config, "vibespro"), ["vibespro"]);
  port = (system.app.server.address() as AddressInfo).port;
  subjects = subjectSpace(world.namespace);
  nc = await natsConnect({ servers: SYSTEM.nats });
});

afterAll(async () => {
  await nc?.close();
  await system?.stop();
  await world.cleanup();
});

const auth = () => ({ authorization: `Bearer ${system.apiKey}` });

async function post(path: string, body: string) {
  const r = await fetch(`${system.baseURL}${path}`, {
    method: "POST",
    headers: { ...auth(), "content-type": "application/json" },
    body,
  });
  return { status: r.status, json: (await r.json()) as { error?: Record<string, unknown> } };
}

/** An OpenAI error body, no framework internals. */
function expectOpenAIError(body: string, code?: string) {
  expect(body).not.toMatch(/FST_/);
  const parsed = JSON.parse(body) as { error: Record<string, unknown> };
  expect(parsed.error).toMatchObject({
    message: expect.any(String),
    type: expect.any(String),
    ...(code ? { code } : {}),
  });
  expect(parsed.error).toHaveProperty("param");
}

const deep = (n: number) => "[".repeat(n) + "]".repeat(n);

describe("text the database cannot store", () => {
  const chat = (content: string) =>
    `{"model":"sea","messages":[{"role":"user","content":"${content}"}]}`;

  it.each([
    ["a lone surrogate", "a \\ud800 b"],
    ["a lone low surrogate", "a \\udc00 b"],
    ["a NUL", "a \\u0000 b"],
  ])("%s in chat content: 400 naming the field, nothing written", async (_, text) => {
    const before = await system.outboxCount();
    const r = await post("/chat/completions", chat(text));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({
      param: "messages[0].content",
      code: "unsupported_character",
    });
    expect(await system.outboxCount()).toBe(before);
  });

  it("a NUL inside a key the gateway keeps (tools[0]): 400 naming where", async () => {
    const body = `{"model":"sea","messages":[{"role":"user","content":"hi"}],
      "tools":[{"type":"function","function":{"name":"f"},"k\\u0000":1}]}`;
    const r = await post("/chat/completions", body);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ param: "tools[0]", code: "unsupported_character" });
  });

  it.each([
    ["path", `{"path":"a\\ud800.ts","language":"typescript","content":"x"}`],
    ["content", `{"path":"a.ts","language":"typescript","content":"x\\u0000"}`],
  ])("an editor action's %s: 400 naming it", async (param, body) => {
    const r = await post("/editor/actions/explain", body);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ param, code: "unsupported_character" });
  });
});

describe("WebSocket frames", () => {
  async function socket() {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`, ["sea.v1"], { headers: auth() });
    const messages: { type: string; [k: string]: unknown }[] = [];
    ws.on("message", (d) => messages.push(JSON.parse(String(d)) as (typeof messages)[number]));
    await once(ws, "open");
    return { ws, messages };
  }
  const chatFrame = (id: unknown) =>
    JSON.stringify({
      type: "chat",
      id,
      request: { model: "sea", messages: [{ role: "user", content: "hi" }] },
    });

  it.each([
    ["CR/LF", "a\r\nb"],
    ["a NUL", "a\u0000b"],
  ])("a chat id with %s: an error naming the message, no command written", async (_, id) => {
    const before = await system.outboxCount();
    const { ws, messages } = await socket();
    ws.send(chatFrame(id));
    const error = await eventually(() => messages.find((m) => m.type === "error"));
    expect(error).toMatchObject({ error: { code: "invalid_message" } });
    ws.send(JSON.stringify({ type: "ping" }));
    await eventually(() => messages.find((m) => m.type === "pong"));
    expect(await system.outboxCount()).toBe(before);
    ws.close();
  });

  it("a chat id that is no subject token still runs (its correlation id is hashed)", async () => {
    const { ws, messages } = await socket();
    ws.send(chatFrame("my chat #1 ünïcode"));
    const started = await eventually(() => messages.find((m) => m.type === "started"));
    expect(started).toMatchObject({ id: "my chat #1 ünïcode" });
    await eventually(() => messages.find((m) => m.type === "done"));
    ws.close();
  });

  it("a frame nested 10,000 deep: a 400 error message, not server_error", async () => {
    const { ws, messages } = await socket();
    ws.send(`{"type":"chat","id":1,"request":{"model":"sea","x":${deep(10_000)}}}`);
    const error = await eventually(() => messages.find((m) => m.type === "error"));
    expect(error).toMatchObject({ error: { code: "too_deep" } });
    ws.close();
  });

  it("a frame over the limit: closed with 1009, logged as the client's mistake", async () => {
    const { ws } = await socket();
    const closed = once(ws, "close");
    ws.send("x".repeat(70_000));
    const [code] = (await closed) as [number];
    expect(code).toBe(1009);
    expect(captured.errors()).toEqual([]);
  });

  it("a plain GET of /v1/ws: 426 with an OpenAI error saying how to connect", async () => {
    const r = await fetch(`${system.baseURL}/ws`, { headers: auth() });
    expect(r.status).toBe(426);
    expectOpenAIError(await r.text(), "upgrade_required");
  });
});

describe("deeply nested JSON", () => {
  it.each([
    ["tool_choice", `"tool_choice":${deep(10_000)}`],
    ["an extra key in tools[0]", `"tools":[{"type":"function","x":${deep(10_000)}}]`],
  ])("in %s: 400, not 500", async (_, field) => {
    const body = `{"model":"sea","messages":[{"role":"user","content":"hi"}],${field}}`;
    const r = await post("/chat/completions", body);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: "too_deep" });
  });

  it("accepts nesting real requests have", async () => {
    const schema = JSON.parse(
      `{"type":"object","properties":{"a":${'{"type":"array","items":'.repeat(10)}{"type":"string"}${"}".repeat(10)}}}`,
    ) as unknown;
    const body = JSON.stringify({
      model: "sea",
      messages: [{ role: "user", content: "hi" }],
      tools: [{ type: "function", function: { name: "f", parameters: schema } }],
    });
    expect((await post("/chat/completions", body)).status).toBe(200);
  });
});

describe("editor action inputs used as table keys", () => {
  it.each(["__proto__", "constructor", "toString"])(
    "generate_tests with language %s proposes a test file beside the source",
    async (language) => {
      const body = JSON.stringify({ path: "src/a.ts", language, content: "export const a = 1;\n" });
      const r = await post("/editor/actions/generate_tests", body);
      expect(r.status).toBe(200);
      const result = r.json as unknown as { edits: { path?: string }[] };
      expect(result.edits.map((e) => e.path)).toEqual(["src/a.test.ts"]);
    },
  );
});

describe("/v1/events", () => {
  const events = (query: string) =>
    fetch(`${system.baseURL}/events?${query}`, { headers: auth() }).then(async (r) => ({
      status: r.status,
      text: await r.text(),
    }));

  it.each([
    ["a repeated subject", "subject=a.b&subject=c.d", "subject"],
    [
      "start_seq of 2^64",
      "subject=tenant.acme.aggregate.x.y&start_seq=18446744073709551616",
      "start_seq",
    ],
    [
      "start_seq of 2^53",
      "subject=tenant.acme.aggregate.x.y&start_seq=9007199254740992",
      "start_seq",
    ],
    [
      "year -271821",
      "subject=tenant.acme.aggregate.x.y&start_time=-271821-04-20T00:00:00Z",
      "start_time",
    ],
    [
      "year +275760",
      "subject=tenant.acme.aggregate.x.y&start_time=%2B275760-09-13T00:00:00Z",
      "start_time",
    ],
    [
      "year -000001",
      "subject=tenant.acme.aggregate.x.y&start_time=-000001-01-01T00:00:00Z",
      "start_time",
    ],
  ])("%s: 400 naming it", async (_, query, param) => {
    const r = await events(query);
    expect(r.status).toBe(400);
    expectOpenAIError(r.text);
    expect((JSON.parse(r.text) as { error: { param: string } }).error.param).toBe(param);
  });
});

describe("requests refused before routing", () => {
  const get = (path: string, extra = "") =>
    rawHttp(
      port,
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${system.apiKey}\r\n${extra}\r\n`,
    );

  it.each([
    ["bad percent-encoding", "/v1/models/%zz", 400],
    ["an overlong UTF-8 escape", "/v1/models/%c0%af", 400],
    ["a path parameter over 100 characters", `/v1/chat/completions/${"a".repeat(120)}`, 414],
  ])("%s: %s in the OpenAI shape", async (_, path, status) => {
    const r = await get(path);
    expect(r.status).toBe(status);
    expectOpenAIError(r.body, "invalid_url");
  });

  it("headers over 16 KiB: 431 in the OpenAI shape, the connection closed saying so", async () => {
    const r = await get("/v1/models", `X-Big: ${"b".repeat(20_000)}\r\n`);
    expect(r.status).toBe(431);
    expect(r.headers.connection).toBe("close");
    expectOpenAIError(r.body);
  });

  it("a non-ASCII byte in the URL: 400 in the OpenAI shape, the connection closed", async () => {
    const r = await rawHttp(
      port,
      Buffer.concat([
        Buffer.from("GET /v1/models/"),
        Buffer.from([0xff]),
        Buffer.from(" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
      ]),
    );
    expect(r.status).toBe(400);
    expect(r.headers.connection).toBe("close");
    expectOpenAIError(r.body);
  });

  it("Expect: 999-nope: 417 with an OpenAI error body", async () => {
    const r = await rawHttp(
      port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 999-nope\r\n` +
        `Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expect(r.status).toBe(417);
    expectOpenAIError(r.body);
  });
});

describe("a message the bus refuses for its content", () => {
  it("is dead-lettered once, and its client gets a clear terminal error", async () => {
    // A command written past the door's checks (another writer, an older gateway): its
    // correlation id cannot travel as a NATS header.
    const streamId = `refused-${Date.now()}`;
    const command = buildChatCommand(subjects, {
      request: { model: "sea", messages: [{ role: "user", content: "hi" }] },
      capability: testCatalog().findChat("sea")!,
      tenant: "acme",
      streamId,
      correlationId: "bad\r\nid",
      delivery: {},
    });
    await insertOutbox(system.runtime.pools.sea, [command]);
    const status = await eventually(async () => {
      const r = await fetch(`${system.baseURL}/chat/completions/${streamId}`, { headers: auth() });
      const s = (await r.json()) as { status: string; error: { code: string } | null };
      return s.status === "failed" ? s : null;
    });
    expect(status.error?.code).toBe("message_refused");
    const row = await system.runtime.pools.sea.query(
      "SELECT refused_at, publish_attempts, publish_error FROM outbox_unpublished WHERE id = $1",
      [command.envelope.event_id],
    );
    expect(row.rows[0].refused_at).not.toBeNull();
    expect(row.rows[0].publish_attempts).toBe(1);
    expect(row.rows[0].publish_error).toMatch(/^refused: /);
    const jsm = await nc.jetstreamManager();
    const dead = await jsm.streams.getMessage(subjects.dlqStream("sea"), {
      last_by_subj: subjects.dlq("sea"),
    });
    expect(dead.header.get("Nats-Msg-Id")).toBe(`dlq:${command.envelope.event_id}`);
  });
});

describe("a client that leaves", () => {
  it("a JSON request whose client leaves is no gateway error (it is not shutting down)", async () => {
    const gone = new AbortController();
    const sent = fetch(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      body: JSON.stringify({ model: "sea-slow", messages: [{ role: "user", content: "hi" }] }),
      signal: gone.signal,
    });
    await eventually(() =>
      captured.lines.some((l) => l.msg === "chat command written" && l.model === "sea-slow"),
    );
    gone.abort();
    await expect(sent).rejects.toThrow();
    await eventually(() =>
      captured.lines.some((l) => l.msg === "client left before the answer ended"),
    );
    expect(captured.errors()).toEqual([]);
  });
});

describe("after all of it", () => {
  it("logged no error-level line, and a normal request works", async () => {
    expect(captured.errors()).toEqual([]);
    const r = await post(
      "/chat/completions",
      JSON.stringify({ model: "sea", messages: [{ role: "user", content: "still here" }] }),
    );
    expect(r.status).toBe(200);
  });
});
