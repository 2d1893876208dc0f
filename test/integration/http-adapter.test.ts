import OpenAI from "openai";
import { sdkClient } from "../helpers/zed-fetch.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contextHandlers } from "../../bin/handlers.js";
import { createTestWorld } from "../helpers/env.js";
import { MockHandlerService } from "../helpers/mock-handler-service.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";
import { sseContent } from "../helpers/sse.js";
import { zedProblems } from "../helpers/zed-checker.js";

const world = createTestWorld("http");
const service = new MockHandlerService();
let system: TestSystem;
let client: OpenAI;

beforeAll(async () => {
  await service.start();
  const env = { SEA_HANDLER_URL: service.url, HANDLER_TIMEOUT_MS: "700", MAX_DELIVER: "3" };
  system = await startTestSystem(
    world,
    testCatalog([{ id: "sea-svc", context: "sea", handler: "http" }]),
    env,
  );
  await system.startWorkers(contextHandlers(world.config(env), "sea"), ["sea"]);
  client = sdkClient(system.baseURL, system.apiKey);
});

afterAll(async () => {
  await system?.stop();
  await service.stop();
  await world.cleanup();
});

const ask = (content: string) =>
  client.chat.completions.create({ model: "sea-svc", messages: [{ role: "user", content }] });

describe("the http handler (handler contract) against a real HTTP service", () => {
  it("posts the contract's request and takes a 200 JSON body of result events", async () => {
    const done = await ask("json");
    expect(done.choices[0]!.message.content).toBe("from json");
    expect(done.usage).toEqual({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
    const req = service.requests.at(-1)!;
    expect(req).toMatchObject({
      subject: expect.stringMatching(/\.sea\.command\.chat_completion\.v1$/),
      event_type: "chat_completion",
      event_version: 1,
      tenant_id: "acme",
      causation_id: null,
      payload: { model: "sea-svc", handler: "http" },
    });
    expect(req.message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(req.correlation_id).toBeTruthy();
  });

  it.each(["sse", "ndjson"])(
    "streams a %s body's events to the client as they come",
    async (mode) => {
      const r = await fetch(`${system.baseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${system.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "sea-svc",
          stream: true,
          messages: [{ role: "user", content: mode }],
        }),
      });
      const sse = await r.text();
      expect(zedProblems(sse)).toEqual([]);
      expect(sseContent(sse)).toBe(`from ${mode}`);
    },
  );

  it("treats 409 as already processed: acked, and the waiting client is told", async () => {
    const err = await ask("409").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.ConflictError);
    expect((err as Error).message).toContain("already processed");
    const redelivered = service.requests.filter(
      (r) => (r.payload as { messages: { content: string }[] }).messages.at(-1)!.content === "409",
    );
    expect(redelivered).toHaveLength(1);
  });

  it("dead-letters a 422 and answers 502", async () => {
    const err = await ask("422").catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((err as Error).message).toContain("422");
  });

  it.each([
    ["a 5xx", "flaky", "recovered"],
    ["a timeout", "slow", "in time"],
  ])("retries after %s, then succeeds", async (_what, mode, content) => {
    const done = await ask(mode);
    expect(done.choices[0]!.message.content).toBe(content);
    const attempts = service.requests.filter(
      (r) => (r.payload as { messages: { content: string }[] }).messages.at(-1)!.content === mode,
    );
    expect(attempts).toHaveLength(2);
    expect(new Set(attempts.map((a) => a.message_id)).size).toBe(1);
  });
});
