import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { contextHandlers } from "../../bin/handlers.js";
import { createTestWorld } from "../helpers/env.js";
import { MockHandlerService } from "../helpers/mock-handler-service.js";
import { MockUpstream } from "../helpers/mock-upstream.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";
import { sdkClient } from "../helpers/zed-fetch.js";

// Chat Completions fields as the upstream receives them (recorded by the mock), the answers
// they shape coming back, and a 400 for a field the model's handler does not honour.
const world = createTestWorld("fields");
const upstream = new MockUpstream();
const service = new MockHandlerService();
let system: TestSystem;
let client: OpenAI;

beforeAll(async () => {
  await Promise.all([upstream.start(), service.start()]);
  const env = { UPSTREAM_OPENAI_BASE_URL: upstream.baseUrl, SEA_HANDLER_URL: service.url };
  const catalog = testCatalog([
    { id: "up-text", context: "sea", handler: "openai", upstream_model: "text" },
    // A handler service whose catalog entry says it honours response_format (and only that).
    { id: "sea-svc", context: "sea", handler: "http", honours: ["response_format"] },
  ]);
  system = await startTestSystem(world, catalog, env);
  await system.startWorkers(contextHandlers(world.config(env), "sea"), ["sea"]);
  client = sdkClient(system.baseURL, system.apiKey);
});

afterAll(async () => {
  await system?.stop();
  await Promise.all([upstream.stop(), service.stop()]);
  await world.cleanup();
});

const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "hi" }];

describe("request fields through the openai handler", () => {
  it("passes every field an OpenAI-compatible upstream understands on, as the client sent it", async () => {
    const fields = {
      temperature: 0.2,
      top_p: 0.5,
      max_completion_tokens: 300,
      stop: ["END", "STOP"],
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      logit_bias: { "50256": -100 },
      seed: 7,
      user: "user-9",
      safety_identifier: "hash-9",
      tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
      tool_choice: "auto",
      parallel_tool_calls: false,
      response_format: { type: "json_object" },
      logprobs: true,
      top_logprobs: 2,
      modalities: ["text"],
      prediction: { type: "content", content: "a guess" },
      web_search_options: { search_context_size: "low" },
      prompt_cache_key: "conv-9",
      prompt_cache_retention: "24h",
      reasoning_effort: "high",
      verbosity: "low",
      service_tier: "flex",
      store: true,
      metadata: { app: "tests" },
    } satisfies Partial<OpenAI.ChatCompletionCreateParamsNonStreaming>;
    await client.chat.completions.create({ model: "up-text", messages, ...fields });
    expect(upstream.calls.at(-1)!.body).toEqual({
      ...fields,
      model: "text",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("keeps max_tokens and max_completion_tokens apart, each as sent", async () => {
    await client.chat.completions.create({ model: "up-text", messages, max_tokens: 40 });
    const old = upstream.calls.at(-1)!.body;
    expect(old.max_tokens).toBe(40);
    expect(old).not.toHaveProperty("max_completion_tokens");
    await client.chat.completions.create({ model: "up-text", messages, max_completion_tokens: 50 });
    const reasoning = upstream.calls.at(-1)!.body;
    expect(reasoning.max_completion_tokens).toBe(50);
    expect(reasoning).not.toHaveProperty("max_tokens");
    // A single stop sequence is a list of one.
    await client.chat.completions.create({ model: "up-text", messages, stop: "END" });
    expect(upstream.calls.at(-1)!.body.stop).toEqual(["END"]);
  });

  it("answers structured outputs: client.chat.completions.parse() with a zod schema", async () => {
    const City = z.object({ city: z.string(), population: z.number(), capital: z.boolean() });
    const done = await client.chat.completions.parse({
      model: "up-text",
      messages: [{ role: "user", content: "The capital of France?" }],
      response_format: zodResponseFormat(City, "city"),
    });
    expect(done.choices[0]!.message.parsed).toEqual({
      city: "Paris",
      population: 42,
      capital: true,
    });
    expect(upstream.calls.at(-1)!.body.response_format).toMatchObject({
      type: "json_schema",
      json_schema: { name: "city", strict: true, schema: { type: "object" } },
    });
  });

  it("streams the upstream's log probabilities on each chunk", async () => {
    const stream = await client.chat.completions.create({
      model: "up-text",
      messages,
      stream: true,
      logprobs: true,
      top_logprobs: 2,
    });
    const tokens: OpenAI.ChatCompletionTokenLogprob[] = [];
    for await (const c of stream) tokens.push(...(c.choices[0]?.logprobs?.content ?? []));
    expect(tokens.map((t) => t.token)).toEqual(["Hello", " from", " upstream."]);
    expect(tokens[0]).toEqual({
      token: "Hello",
      logprob: -0.25,
      bytes: [...Buffer.from("Hello")],
      top_logprobs: [
        { token: "Hello~0", logprob: -1, bytes: [...Buffer.from("Hello")] },
        { token: "Hello~1", logprob: -2, bytes: [...Buffer.from("Hello")] },
      ],
    });
  });

  it("answers a non-streaming request with all the log probabilities, in order", async () => {
    const done = await client.chat.completions.create({
      model: "up-text",
      messages,
      logprobs: true,
    });
    expect(done.choices[0]!.message.content).toBe("Hello from upstream.");
    expect(done.choices[0]!.logprobs?.content?.map((t) => t.token)).toEqual([
      "Hello",
      " from",
      " upstream.",
    ]);
    // The stored completion holds them too.
    const stored = await client.chat.completions.retrieve(done.id.replace(/^chatcmpl-/, ""));
    expect(stored.choices[0]!.logprobs?.content).toHaveLength(3);
  });
});

describe("fields a model does not honour", () => {
  const refused: [string, Partial<OpenAI.ChatCompletionCreateParamsNonStreaming>, string][] = [
    [
      "a JSON schema",
      { response_format: zodResponseFormat(z.object({ a: z.string() }), "a") },
      "response_format",
    ],
    ["a JSON object", { response_format: { type: "json_object" } }, "response_format"],
    ["log probabilities", { logprobs: true }, "logprobs"],
    ["top log probabilities", { top_logprobs: 3 }, "top_logprobs"],
    ["web search", { web_search_options: {} }, "web_search_options"],
  ];

  it.each(refused)(
    "refuses %s for the built-in echo with a 400 naming it",
    async (_, extra, param) => {
      const before = await system.outboxCount("chat_completion");
      const err = await client.chat.completions
        .create({ model: "sea", messages, ...extra })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      const e = err as InstanceType<typeof OpenAI.BadRequestError>;
      expect(e.param).toBe(param);
      expect(e.code).toBe("unsupported_parameter");
      expect(e.message).toContain(`'${param}'`);
      expect(e.message).toContain("'sea'");
      expect(await system.outboxCount("chat_completion")).toBe(before);
    },
  );

  const unsupported: [string, Partial<OpenAI.ChatCompletionCreateParamsNonStreaming>, string][] = [
    ["audio output", { modalities: ["text", "audio"] }, "modalities"],
    ["deprecated functions", { functions: [{ name: "f" }] }, "functions"],
  ];
  it.each(unsupported)(
    "refuses %s for every model, the upstream's too",
    async (_, extra, param) => {
      const err = await client.chat.completions
        .create({ model: "up-text", messages, ...extra })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param);
    },
  );

  it("answers the fields that ask for nothing special as before", async () => {
    const done = await client.chat.completions.create({
      model: "sea",
      messages,
      response_format: { type: "text" },
      logprobs: false,
      modalities: ["text"],
      temperature: 0.1,
    });
    expect(done.choices[0]!.message.content).toBe("hi");
    expect(done.choices[0]!.logprobs).toBeNull();
  });

  it("passes what a handler service honours on to it, and refuses the rest", async () => {
    const ok = await client.chat.completions.create({
      model: "sea-svc",
      messages: [{ role: "user", content: "json" }],
      response_format: { type: "json_object" },
      max_completion_tokens: 9,
    });
    expect(ok.choices[0]!.message.content).toBe("from json");
    expect(service.requests.at(-1)!.payload).toMatchObject({
      params: { response_format: { type: "json_object" }, max_completion_tokens: 9 },
    });
    const err = await client.chat.completions
      .create({ model: "sea-svc", messages, logprobs: true })
      .catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("logprobs");
  });
});
