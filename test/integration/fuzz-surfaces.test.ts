import { once } from "node:events";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { contextHandlers } from "../../bin/handlers.js";
import { createTestWorld, eventually } from "../helpers/env.js";
import { capturingLog } from "../helpers/log-capture.js";
import { rawHttp } from "../helpers/raw-http.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

/**
 * Property-based fuzzing of every surface (fixed seed, so a failure is reproducible): each
 * generated input must get an answer within the deadline, never a 5xx, an OpenAI-shaped error
 * body without framework codes when it is refused, no error-level log line (a client's mistake
 * is not the gateway's error), and a normal request afterwards must still work. `FUZZ_RUNS`
 * sets the cases per surface.
 */
const world = createTestWorld("fuzzall");
const captured = capturingLog();
let system: TestSystem;
let port: number;
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SEED = 20261207;
const ANSWER_WITHIN_MS = 10_000;

beforeAll(async () => {
  system = await startTestSystem(
    world,
    testCatalog(),
    { REQUEST_DEADLINE_MS: "5000", MAX_BODY_BYTES: "65536" },
    { log: captured.log },
  );
  const config = world.config();
  await system.startWorkers(contextHandlers(config, "sea"), ["sea"]);
  await system.startWorkers(contextHandlers(config, "vibespro"), ["vibespro"]);
  port = (system.app.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await system?.stop();
  await world.cleanup();
});

const hostile = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom(
    "__proto__",
    "constructor",
    "\u0000",
    "\ud800",
    "a\r\nb",
    "%zz",
    "../etc/passwd",
    "x".repeat(300),
    "18446744073709551616",
    "-1",
    "1e309",
    "",
  ),
);
const deep = fc.integer({ min: 60, max: 3_000 }).map((n) => "[".repeat(n) + "]".repeat(n));
const jsonish = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  deep,
  hostile,
  fc.anything().map((v) => {
    try {
      return JSON.stringify(v) ?? "null";
    } catch {
      return "{}";
    }
  }),
);

/** The invariants every HTTP answer is held to. */
async function checked(r: Response | Promise<Response>): Promise<{ status: number; text: string }> {
  const res = await r;
  const text = res.status === 200 && isStream(res) ? await firstBytes(res) : await res.text();
  expect(res.status, text.slice(0, 300)).toBeLessThan(500);
  expect(text).not.toMatch(/FST_ERR/);
  if (res.status >= 400 && res.status !== 404 && text) {
    const body = JSON.parse(text) as { error?: { message?: unknown; type?: unknown } };
    expect(body.error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
  }
  if (res.status === 404) {
    expect((JSON.parse(text) as { error: { message: string } }).error.message).toEqual(
      expect.any(String),
    );
  }
  return { status: res.status, text };
}

const isStream = (r: Response) => r.headers.get("content-type")?.startsWith("text/event-stream");

/** A stream is answered once its first bytes arrive; then this reader leaves. */
async function firstBytes(r: Response): Promise<string> {
  const reader = r.body!.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return new TextDecoder().decode(value);
}

const http = (path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, {
    ...init,
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
    headers: { authorization: `Bearer ${system.apiKey}`, ...(init.headers ?? {}) },
  });
const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return "x"; // a lone surrogate cannot be percent-encoded: no client could send it
  }
};
const assertProperty = <T>(arb: fc.Arbitrary<T>, run: (v: T) => Promise<void>) =>
  fc.assert(fc.asyncProperty(arb, run), { numRuns: RUNS, seed: SEED });

describe(`every surface, ${RUNS} generated inputs each`, () => {
  it("editor actions", async () => {
    const name = fc.oneof(
      fc.constantFrom("explain", "refactor", "generate_tests", "validate_spec"),
      hostile,
    );
    const body = fc.oneof(
      jsonish,
      fc
        .record(
          {
            path: fc.oneof(fc.constant("src/a.ts"), hostile),
            language: fc.oneof(fc.constantFrom("typescript", "python", "__proto__"), hostile),
            content: fc.oneof(fc.constant("let a = 1;\n"), hostile),
            instruction: hostile,
            selection: fc.anything(),
            stream: fc.oneof(fc.boolean(), fc.anything()),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
    );
    await assertProperty(fc.tuple(name, body), async ([n, b]) => {
      await checked(
        http(`/v1/editor/actions/${enc(n)}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: b,
        }),
      );
    });
  }, 300_000);

  it("stream resources: status, events with cursors, cancel", async () => {
    const id = fc.oneof(hostile, fc.uuid(), fc.constant("chatcmpl-x"));
    const cursor = fc.oneof(hostile, fc.nat().map(String));
    const kind = fc.constantFrom("status", "events", "cancel", "editor-events", "editor-cancel");
    await assertProperty(fc.tuple(kind, id, cursor), async ([k, i, c]) => {
      const path = {
        status: `/v1/chat/completions/${enc(i)}`,
        events: `/v1/chat/completions/${enc(i)}/events?starting_after=${enc(c)}`,
        cancel: `/v1/chat/completions/${enc(i)}/cancel`,
        "editor-events": `/v1/editor/streams/${enc(i)}/events?after=${enc(c)}`,
        "editor-cancel": `/v1/editor/streams/${enc(i)}/cancel`,
      }[k];
      await checked(http(path, { method: k.endsWith("cancel") ? "POST" : "GET" }));
    });
  }, 300_000);

  it("/v1/events", async () => {
    const param = fc.constantFrom("subject", "deliver", "start_seq", "start_time", "subject");
    const query = fc.array(fc.tuple(param, hostile), { maxLength: 4 });
    await assertProperty(query, async (q) => {
      const qs = q.map(([k, v]) => `${k}=${enc(v)}`).join("&");
      await checked(http(`/v1/events?${qs}`));
    });
  }, 300_000);

  it("/v1/models and the ops routes", async () => {
    const path = fc.oneof(
      hostile.map((h) => `/v1/models/${enc(h)}`),
      fc.constantFrom("/v1/models", "/health/live", "/health/ready", "/metrics", "/status.json"),
      hostile.map((h) => `/status?access_token=${enc(h)}`),
    );
    await assertProperty(path, async (p) => {
      await checked(http(p));
    });
  }, 300_000);

  it("MCP", async () => {
    const init = await http("/mcp", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "f", version: "1" },
        },
      }),
    });
    const session = init.headers.get("mcp-session-id")!;
    await init.text();
    const message = fc.oneof(
      jsonish,
      fc
        .record({
          jsonrpc: fc.oneof(fc.constant("2.0"), hostile),
          id: fc.oneof(fc.nat(), hostile),
          method: fc.oneof(fc.constantFrom("tools/call", "tools/list", "ping"), hostile),
          params: fc.oneof(
            fc.record({
              name: fc.oneof(fc.constantFrom("explain", "chat_sea"), hostile),
              arguments: fc.anything(),
            }),
            fc.anything(),
          ),
        })
        .map((v) => JSON.stringify(v)),
    );
    await assertProperty(fc.tuple(message, fc.boolean()), async ([m, withSession]) => {
      const r = await http("/mcp", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...(withSession ? { "mcp-session-id": session } : {}),
        },
        body: m,
      });
      const text = isStream(r) ? await firstBytes(r) : await r.text();
      expect(r.status, text.slice(0, 300)).toBeLessThan(500);
      expect(text).not.toMatch(/FST_ERR/);
    });
  }, 300_000);

  it("WebSocket frames: every bad frame gets an error, every chat started finishes", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`, ["sea.v1"], {
      headers: { authorization: `Bearer ${system.apiKey}` },
    });
    const messages: { type: string; stream_id?: string; error?: { code?: string } }[] = [];
    ws.on("message", (d) => messages.push(JSON.parse(String(d)) as (typeof messages)[number]));
    const closes: number[] = [];
    ws.on("close", (code: number) => closes.push(code));
    await once(ws, "open");
    const chat = fc
      .record({
        type: fc.constant("chat"),
        id: fc.oneof(fc.nat(), hostile),
        request: fc.record({
          model: fc.constantFrom("sea", "vibespro"),
          messages: fc.constant([{ role: "user", content: "fuzz" }]),
        }),
      })
      .map((v) => JSON.stringify(v));
    const frame = fc.oneof(
      chat,
      jsonish,
      fc
        .record(
          {
            type: fc.oneof(
              fc.constantFrom(
                "chat",
                "subscribe",
                "unsubscribe",
                "cancel",
                "ping",
                "subscribe_events",
              ),
              hostile,
            ),
            id: fc.oneof(fc.nat(), hostile),
            stream_id: hostile,
            starting_after: fc.oneof(fc.nat(), fc.anything()),
            subject: hostile,
            request: fc.oneof(
              fc.record({
                model: fc.constantFrom("sea", "vibespro"),
                messages: fc.constant([{ role: "user", content: "fuzz" }]),
              }),
              fc.anything(),
            ),
          },
          { requiredKeys: ["type"] },
        )
        .map((v) => JSON.stringify(v)),
    );
    await assertProperty(frame, async (f) => {
      ws.send(f);
    });
    ws.send(JSON.stringify({ type: "ping" }));
    await eventually(() => messages.some((m) => m.type === "pong"), ANSWER_WITHIN_MS);
    expect(closes).toEqual([]);
    for (const m of messages.filter((x) => x.type === "error")) {
      expect(m.error?.code).not.toBe("server_error");
    }
    const started = messages.filter((m) => m.type === "started").map((m) => m.stream_id);
    await eventually(
      () => started.every((id) => messages.some((m) => m.type === "done" && m.stream_id === id)),
      30_000,
      "every chat started over the socket to finish",
    );
    ws.close();
  }, 300_000);

  it("raw malformed HTTP", async () => {
    const line = fc.oneof(
      hostile.map((h) => `GET /v1/models/${h} HTTP/1.1`),
      fc.constantFrom("GARBAGE", "GET", "GET / HTTP/9.9", "POST /v1/chat/completions HTTP/1.1"),
      hostile,
    );
    const header = fc.oneof(
      hostile.map((h) => `X-F: ${h}`),
      fc.constant("Content-Length: -1"),
    );
    await fc.assert(
      fc.asyncProperty(line, fc.array(header, { maxLength: 3 }), async (l, hs) => {
        const r = await rawHttp(port, `${l}\r\nHost: 127.0.0.1\r\n${hs.join("\r\n")}\r\n\r\n`);
        // Either an answer below 500 in the OpenAI shape, or a closed connection (no answer).
        if (Number.isNaN(r.status)) return;
        expect(r.status, r.body).toBeLessThan(500);
        expect(r.body).not.toMatch(/FST_ERR/);
      }),
      { numRuns: Math.min(RUNS, 500), seed: SEED },
    );
  }, 300_000);

  it("after all of it: no error-level log line, and a normal chat still works", async () => {
    expect(captured.errors()).toEqual([]);
    const r = await http("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "sea", messages: [{ role: "user", content: "still fine" }] }),
    });
    expect(r.status).toBe(200);
  });
});
