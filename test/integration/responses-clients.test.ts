import { AIMessageChunk, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestWorld } from "../helpers/env.js";
import { MockUpstream } from "../helpers/mock-upstream.js";
import type { TestSystem } from "../helpers/system.js";
import { startUpstreamSystem } from "../helpers/upstream-system.js";

/**
 * `/v1/responses` on the real gateway (Postgres, NATS, relays, workers running the `openai`
 * handler against a mock upstream model), read by the real clients: the openai SDK
 * (`responses.create`, `.stream().finalResponse()`, `retrieve` as object and as a stream after
 * `starting_after`) and LangChain's ChatOpenAI with `useResponsesApi` (LibreChat's Responses
 * mode). Each catalog model `up-<m>` is the upstream's model `m`.
 */
const world = createTestWorld("respcli");
const upstream = new MockUpstream();
let system: TestSystem;
let client: OpenAI;
const MODELS = ["text", "reasoning", "tool-turn", "cut", "broken"] as const;
const model = (m: (typeof MODELS)[number]) => `up-${m}`;

beforeAll(async () => {
  await upstream.start();
  system = await startUpstreamSystem(world, upstream, MODELS);
  client = new OpenAI({ apiKey: system.apiKey, baseURL: system.baseURL, maxRetries: 0 });
});

afterAll(async () => {
  await system?.stop();
  await upstream.stop();
  await world.cleanup();
});

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: true,
};
const TEXT = "Hello from upstream.";

describe("openai SDK: responses.*", () => {
  it("create, not streamed: the object, output_text derived by the SDK, usage", async () => {
    const r = await client.responses.create({ model: model("text"), input: "hi" });
    expect(r.id).toMatch(/^resp_/);
    expect(r.status).toBe("completed");
    expect(r.output_text).toBe(TEXT);
    expect(r.usage).toMatchObject({ input_tokens: 11, output_tokens: 3, total_tokens: 14 });
    expect(r.output[0]!.id).toMatch(/^msg_/);
  });

  it("create with stream:true: the typed events in order, sequence_number 0, 1, 2…", async () => {
    const stream = await client.responses.create({
      model: model("text"),
      input: "hi",
      stream: true,
    });
    const types: string[] = [];
    const numbers: number[] = [];
    for await (const e of stream) {
      types.push(e.type);
      numbers.push(e.sequence_number);
    }
    expect(types.slice(0, 4)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
    ]);
    expect(types.slice(-4)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(numbers).toEqual(types.map((_, i) => i));
  });

  it("stream(...).finalResponse(): the SDK's accumulator takes the order", async () => {
    const deltas: string[] = [];
    const stream = client.responses.stream({ model: model("text"), input: "hi" });
    stream.on("response.output_text.delta", (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(deltas.join("")).toBe(TEXT);
    expect(final.output_text).toBe(TEXT);
  });

  it("instructions and input reach the upstream as system and user messages", async () => {
    await client.responses.create({
      model: model("text"),
      instructions: "Be brief.",
      input: [
        { role: "developer", content: "Style: plain." },
        { role: "user", content: "hi" },
      ],
      max_output_tokens: 50,
      text: { format: { type: "json_object" } },
      reasoning: { effort: "low" },
    });
    expect(upstream.calls.at(-1)!.body).toMatchObject({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "system", content: "Style: plain." },
        { role: "user", content: "hi" },
      ],
      max_completion_tokens: 50,
      response_format: { type: "json_object" },
      reasoning_effort: "low",
    });
  });

  it("a tool call: the function_call item; the output sent back answers", async () => {
    const final = await client.responses
      .stream({ model: model("tool-turn"), input: "weather?", tools: [weatherTool] })
      .finalResponse();
    const call = final.output.find((o) => o.type === "function_call");
    expect(call).toMatchObject({
      call_id: "call_t1",
      name: "get_weather",
      arguments: '{"city":"Paris"}',
      status: "completed",
    });
    expect(call!.id).toMatch(/^fc_/);
    const second = await client.responses.create({
      model: model("tool-turn"),
      input: [
        { role: "user", content: "weather?" },
        ...(final.output as OpenAI.Responses.ResponseInputItem[]),
        { type: "function_call_output", call_id: "call_t1", output: "sunny" },
      ],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe("The tool said: sunny");
    const sent = upstream.calls.at(-1)!.body.messages as { role: string; tool_call_id?: string }[];
    expect(sent.map((m) => m.role)).toEqual(["user", "assistant", "tool"]);
    expect(sent[2]!.tool_call_id).toBe("call_t1");
  });

  it("previous_response_id: the chain's input and output come first", async () => {
    const first = await client.responses.create({ model: model("text"), input: "first" });
    await client.responses.create({
      model: model("text"),
      previous_response_id: first.id,
      input: "second",
    });
    const sent = upstream.calls.at(-1)!.body.messages as { role: string; content: string }[];
    expect(sent).toEqual([
      { role: "user", content: "first" },
      { role: "assistant", content: TEXT },
      { role: "user", content: "second" },
    ]);
    await expect(
      client.responses.create({
        model: model("text"),
        previous_response_id: "resp_nope",
        input: "x",
      }),
    ).rejects.toMatchObject({ status: 400, code: "previous_response_not_found" });
  });

  it("reasoning: a reasoning item with the summary before the message", async () => {
    const summary: string[] = [];
    const stream = client.responses.stream({ model: model("reasoning"), input: "hi" });
    stream.on("response.reasoning_summary_text.delta", (e) => summary.push(e.delta));
    const final = await stream.finalResponse();
    expect(summary.join("")).toBe("Let me think.");
    expect(final.output.map((o) => o.type)).toEqual(["reasoning", "message"]);
    expect(final.output_text).toBe(TEXT);
  });

  it("incomplete: response.incomplete with max_output_tokens, the text so far", async () => {
    const stream = client.responses.stream({ model: model("cut"), input: "hi" });
    let reason: string | undefined;
    stream.on("response.incomplete", (e) => (reason = e.response.incomplete_details?.reason));
    const final = await stream.finalResponse();
    expect(reason).toBe("max_output_tokens");
    expect(final.output_text).toBe("This answer was cut");
  });

  it("failed: streamed, response.failed carries the error; not streamed, an HTTP error", async () => {
    const stream = client.responses.stream({ model: model("broken"), input: "hi" });
    let error: { code: string; message: string } | null | undefined;
    stream.on("response.failed", (e) => (error = e.response.error));
    await stream.finalResponse();
    expect(error?.code).toMatch(/upstream/);
    await expect(
      client.responses.create({ model: model("broken"), input: "hi" }),
    ).rejects.toMatchObject({ status: 502 });
  });

  it("retrieve as object, and as a stream after starting_after (server- and client-side)", async () => {
    const created = await client.responses.create({
      model: model("text"),
      input: "hi",
      stream: true,
    });
    const all: { type: string; sequence_number: number }[] = [];
    for await (const e of created) all.push(e);
    const id = (all[0] as unknown as { response: { id: string } }).response.id;
    const object = await client.responses.retrieve(id);
    expect(object.output_text).toBe(TEXT);
    expect(object.status).toBe("completed");
    const n = 4;
    const rest: { type: string; sequence_number: number }[] = [];
    for await (const e of await client.responses.retrieve(id, { stream: true, starting_after: n }))
      rest.push(e);
    expect(rest).toEqual(all.slice(n + 1));
    const resumed: number[] = [];
    const stream = client.responses.stream({ response_id: id, starting_after: n });
    stream.on("event", (e) => resumed.push(e.sequence_number));
    expect((await stream.finalResponse()).output_text).toBe(TEXT);
    expect(resumed).toEqual(rest.map((e) => e.sequence_number));
  });

  it("inputItems.list pages the input, newest first, with the ids", async () => {
    const r = await client.responses.create({
      model: model("text"),
      input: [
        { role: "user", content: "one" },
        { role: "user", content: "two" },
        { role: "user", content: "three" },
      ],
    });
    const page = await client.responses.inputItems.list(r.id, { limit: 2 });
    expect(page.data.map((i) => (i as { content: { text: string }[] }).content[0]!.text)).toEqual([
      "three",
      "two",
    ]);
    expect(page.has_more).toBe(true);
    const all: string[] = [];
    for await (const item of client.responses.inputItems.list(r.id, { order: "asc", limit: 1 })) {
      all.push((item as { id: string }).id);
    }
    expect(all).toHaveLength(3);
    expect(new Set(all).size).toBe(3);
  });

  it("delete: then 404 for it; an unknown id is the 404 the SDK raises as NotFoundError", async () => {
    const r = await client.responses.create({ model: model("text"), input: "hi" });
    await client.responses.delete(r.id);
    await expect(client.responses.retrieve(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.responses.retrieve("resp_nope")).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
  });
});

describe("LangChain ChatOpenAI({ useResponsesApi: true }), as LibreChat's Responses mode", () => {
  const lc = (m: (typeof MODELS)[number], streaming: boolean) =>
    new ChatOpenAI({
      model: model(m),
      apiKey: system.apiKey,
      useResponsesApi: true,
      streaming,
      maxRetries: 0,
      configuration: { baseURL: system.baseURL },
    });

  it("invoke and stream a text answer with usage", async () => {
    const answer = await lc("text", false).invoke([new HumanMessage("hi")]);
    expect(answer.content).toEqual([expect.objectContaining({ type: "text", text: TEXT })]);
    let whole: AIMessageChunk | undefined;
    for await (const chunk of await lc("text", true).stream([new HumanMessage("hi")]))
      whole = whole ? whole.concat(chunk) : chunk;
    expect(whole!.text).toBe(TEXT);
    expect(whole!.usage_metadata).toMatchObject({
      input_tokens: 11,
      output_tokens: 3,
      total_tokens: 14,
    });
  });

  it("a streamed tool call becomes tool_calls; the replayed turn (with fc_ ids) is answered", async () => {
    const m = lc("tool-turn", true).bindTools([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather",
          parameters: weatherTool.parameters,
        },
      },
    ]);
    let whole: AIMessageChunk | undefined;
    for await (const chunk of await m.stream([new HumanMessage("weather?")]))
      whole = whole ? whole.concat(chunk) : chunk;
    expect(whole!.tool_calls).toEqual([
      expect.objectContaining({ name: "get_weather", args: { city: "Paris" }, id: "call_t1" }),
    ]);
    let second: AIMessageChunk | undefined;
    for await (const chunk of await m.stream([
      new HumanMessage("weather?"),
      whole!,
      new ToolMessage({ content: "sunny", tool_call_id: "call_t1" }),
    ]))
      second = second ? second.concat(chunk) : chunk;
    expect(second!.text).toBe("The tool said: sunny");
  });

  it("reasoning summaries reach additional_kwargs.reasoning", async () => {
    let whole: AIMessageChunk | undefined;
    for await (const chunk of await lc("reasoning", true).stream([new HumanMessage("hi")]))
      whole = whole ? whole.concat(chunk) : chunk;
    const reasoning = whole!.additional_kwargs.reasoning as { summary: { text: string }[] };
    expect(reasoning.summary.map((s) => s.text).join("")).toBe("Let me think.");
    expect(whole!.text).toBe(TEXT);
  });

  it("a failed response: invoke throws", async () => {
    await expect(lc("broken", false).invoke([new HumanMessage("hi")])).rejects.toThrow();
  });
});
