import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld } from "../helpers/env.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

const world = createTestWorld("fuzz");
let system: TestSystem;
const RUNS = Number(process.env.FUZZ_RUNS ?? 600);

beforeAll(async () => {
  system = await startTestSystem(world, testCatalog(), { REQUEST_DEADLINE_MS: "5000" });
  await system.startWorkers(new HandlerRegistry().register(echoHandler()));
});

afterAll(async () => {
  await system?.stop();
  await world.cleanup();
});

const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom(
    "a.b",
    "*",
    ">",
    "a b",
    "\u0000",
    "\n",
    "é",
    "{{LIBRECHAT_USER_ID}}",
    "sea.>",
    "",
  ),
);
const content = fc.oneof(
  hostileString,
  fc.array(
    fc.record({ type: fc.constantFrom("text", "image_url", "weird"), text: hostileString }),
    { maxLength: 3 },
  ),
  fc.constant(null),
  fc.integer(),
);
const message = fc.record(
  {
    role: fc.oneof(
      fc.constantFrom("system", "user", "assistant", "tool", "developer"),
      hostileString,
    ),
    content,
    tool_call_id: hostileString,
    tool_calls: fc.anything(),
  },
  { requiredKeys: ["role"] },
);
/** Valid requests whose strings are hostile: these must be accepted and answered. */
const validBody = fc
  .record({
    model: fc.constantFrom("sea", "vibespro"),
    messages: fc.array(fc.record({ role: fc.constant("user"), content: hostileString }), {
      minLength: 1,
      maxLength: 3,
    }),
    stream: fc.boolean(),
    user: hostileString,
  })
  .map((v) => JSON.stringify(v));
/** Valid, near-valid (hostile values in every field) and arbitrary bodies. */
const chatBody = fc.oneof(
  { arbitrary: validBody, weight: 2 },
  fc
    .record(
      {
        model: fc.oneof(fc.constantFrom("sea", "vibespro"), hostileString),
        messages: fc.oneof(fc.array(message, { maxLength: 4 }), fc.anything()),
        stream: fc.oneof(fc.boolean(), fc.anything()),
        n: fc.oneof(fc.integer(), fc.anything()),
        temperature: fc.oneof(fc.double(), fc.anything()),
        stop: fc.anything(),
        tools: fc.anything(),
        stream_options: fc.anything(),
        user: hostileString,
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  hostileString,
);
const headers = fc.record({
  contentType: fc.oneof(
    { arbitrary: fc.constant("application/json"), weight: 6 },
    fc.constantFrom(
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/json; charset=latin1",
    ),
  ),
  auth: fc.oneof(
    { arbitrary: fc.constant("valid"), weight: 6 },
    fc.constant("none"),
    hostileString.map((s) => `Bearer ${s}`),
    hostileString,
  ),
  requestId: fc.option(hostileString),
  userId: fc.option(hostileString),
});

/** Header values a fetch client can send at all (others fail before reaching the server). */
const sendable = (v: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(v) && v.trim() === v && v !== "";

describe("property-based fuzzing of chat requests and headers", () => {
  it(`never answers 5xx, never crashes, never writes a command for an invalid request (${RUNS} runs)`, async () => {
    let ok = 0;
    let runs = 0;
    const statuses = new Map<number, number>();
    const before = await system.outboxCount("chat_completion");
    await fc.assert(
      fc.asyncProperty(chatBody, headers, async (body, h) => {
        runs++;
        const hdrs: Record<string, string> = { "content-type": h.contentType };
        if (h.auth === "valid") hdrs.authorization = `Bearer ${system.apiKey}`;
        else if (h.auth !== "none" && sendable(h.auth)) hdrs.authorization = h.auth;
        if (h.requestId && sendable(h.requestId)) hdrs["x-request-id"] = h.requestId;
        if (h.userId && sendable(h.userId)) hdrs["x-user-id"] = h.userId;
        const r = await fetch(`${system.baseURL}/chat/completions`, {
          method: "POST",
          headers: hdrs,
          body,
        });
        const text = await r.text();
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect(r.status, text).toBeLessThan(500);
        if (r.status === 200) ok++;
        else expect(JSON.parse(text)).toMatchObject({ error: { message: expect.any(String) } });
      }),
      { numRuns: RUNS },
    );
    // Exactly one command per accepted request, none for the rest.
    expect(await system.outboxCount("chat_completion")).toBe(before + ok);
    const live = await fetch(system.baseURL.replace(/\/v1$/, "/health/live"));
    expect(live.status).toBe(200);
    console.log(`fuzz: ${runs} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 300_000);
});
