import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contextHandlers } from "../../bin/handlers.js";
import { createTestWorld } from "../helpers/env.js";
import { UvicornService } from "../helpers/python-service.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";
import { sdkClient } from "../helpers/zed-fetch.js";

/**
 * examples/fastapi_handler.py, run for real (FastAPI under uvicorn) as the `http` handler of
 * the SEA context: the example users copy is the one that is tested.
 */
const world = createTestWorld("fastapi");
const service = new UvicornService(
  fileURLToPath(new URL("../../examples", import.meta.url)),
  "fastapi_handler:app",
);
let system: TestSystem;
let client: OpenAI;

beforeAll(async () => {
  await service.start();
  const env = { SEA_HANDLER_URL: `${service.url}/handle` };
  system = await startTestSystem(
    world,
    testCatalog([{ id: "sea-py", context: "sea", handler: "http" }]),
    env,
  );
  await system.startWorkers(contextHandlers(world.config(env), "sea"), ["sea"]);
  client = sdkClient(system.baseURL, system.apiKey);
}, 60_000);

afterAll(async () => {
  await system?.stop();
  await service.stop();
  await world.cleanup();
});

describe("examples/fastapi_handler.py behind the gateway", () => {
  it("streams its NDJSON answer to an OpenAI client, word by word, with usage", async () => {
    const stream = await client.chat.completions.create({
      model: "sea-py",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "hello from python" }],
    });
    const pieces: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content;
      if (piece) pieces.push(piece);
      usage ??= chunk.usage;
    }
    expect(pieces.join("")).toBe("acme asked: hello from python");
    expect(pieces.length).toBeGreaterThan(1);
    expect(usage).toEqual({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
  });

  it("answers a non-streaming request, with text parts joined", async () => {
    const done = await client.chat.completions.create({
      model: "sea-py",
      messages: [{ role: "user", content: [{ type: "text", text: "parts work" }] }],
    });
    expect(done.choices[0]!.message.content).toBe("acme asked: parts work");
    expect(done.choices[0]!.finish_reason).toBe("stop");
  });

  it("keeps the contract's status codes: 409 for a message it processed, 422 for one it cannot", async () => {
    const request = {
      message_id: randomUUID(),
      subject: "sea.command.chat_completion.v1",
      event_type: "chat_completion",
      event_version: 1,
      occurred_at: new Date().toISOString(),
      correlation_id: randomUUID(),
      causation_id: null,
      tenant_id: "acme",
      payload: { model: "sea-py", messages: [{ role: "user", content: "once" }] },
    };
    const post = (body: unknown) =>
      fetch(`${service.url}/handle`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const first = await post(request);
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = (await first.text()).trim().split("\n");
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ event_type: "chat_completed" });
    expect((await post(request)).status).toBe(409);
    expect((await post({ ...request, message_id: randomUUID(), event_version: 2 })).status).toBe(
      422,
    );
  });
});
