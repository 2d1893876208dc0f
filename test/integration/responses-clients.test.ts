import { AIMessageChunk, HumanMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatCompletedPayload } from "../../contracts/index.js";
import type { RenderInput } from "../../src/gateway/responses/event-renderer.js";
import { FakeResponsesServer, type Script } from "../helpers/fake-responses-server.js";

/**
 * The rendered Responses stream, served over real HTTP, read by the real clients: the openai
 * SDK (`responses.create`, `responses.stream().finalResponse()`, `retrieve` as a stream with
 * `starting_after`) and LangChain's ChatOpenAI with `useResponsesApi` (LibreChat's Responses
 * mode). The model name picks what the (scripted) run delivers.
 */

const usage = { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 };
const delta = (
  seq: number,
  payload: Extract<RenderInput, { kind: "delta" }>["payload"],
): RenderInput => ({
  kind: "delta",
  seq,
  payload,
});
const done = (finish: ChatCompletedPayload["finish_reason"]): RenderInput => ({
  kind: "completed",
  payload: { message: { role: "assistant", content: "" }, finish_reason: finish, usage },
});

const SCRIPTS: Record<string, Script> = {
  text: () => [
    delta(1, { content: "Hello " }),
    delta(2, { content: "from the gateway." }),
    done("stop"),
  ],
  reasoning: () => [
    delta(1, { reasoning_content: "The user greets; " }),
    delta(2, { reasoning_content: "greet back." }),
    delta(3, { content: "Hi!" }),
    done("stop"),
  ],
  tools: (req) =>
    // After the tool ran: answer with what it returned.
    Array.isArray(req.input) && req.input.some((i) => i.type === "function_call_output")
      ? [delta(1, { content: "It is sunny." }), done("stop")]
      : [
          delta(1, {
            tool_calls: [
              {
                index: 0,
                id: "call_w1",
                type: "function",
                function: { name: "get_weather", arguments: '{"city"' },
              },
            ],
          }),
          delta(2, { tool_calls: [{ index: 0, function: { arguments: ':"Paris"}' } }] }),
          done("tool_calls"),
        ],
  incomplete: () => [delta(1, { content: "This answer was cut" }), done("length")],
  failed: () => [
    delta(1, { content: "Half an ans" }),
    {
      kind: "failed",
      payload: {
        error: {
          message: "upstream exploded",
          type: "server_error",
          code: "upstream_error",
          status: 502,
        },
      },
    },
  ],
};

const server = new FakeResponsesServer((req, chat) => SCRIPTS[req.model]!(req, chat));
let client: OpenAI;

beforeAll(async () => {
  await server.start();
  client = new OpenAI({ apiKey: "k", baseURL: server.baseURL, maxRetries: 0 });
});
afterAll(() => server.stop());

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: true,
};

describe("openai SDK: responses.*", () => {
  it("create, not streamed: the object, output_text derived by the SDK", async () => {
    const r = await client.responses.create({ model: "text", input: "hi" });
    expect(r.status).toBe("completed");
    expect(r.output_text).toBe("Hello from the gateway.");
    expect(r.usage).toMatchObject({ input_tokens: 9, output_tokens: 4, total_tokens: 13 });
  });

  it("create with stream:true: the typed events in order, sequence_number 0, 1, 2…", async () => {
    const stream = await client.responses.create({ model: "text", input: "hi", stream: true });
    const types: string[] = [];
    const numbers: number[] = [];
    for await (const e of stream) {
      types.push(e.type);
      numbers.push(e.sequence_number);
    }
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(types).toContain("response.output_text.delta");
    expect(numbers).toEqual(types.map((_, i) => i));
  });

  it("stream(...).finalResponse(): the SDK's accumulator takes the order", async () => {
    const deltas: string[] = [];
    const stream = client.responses.stream({ model: "text", input: "hi" });
    stream.on("response.output_text.delta", (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(deltas.join("")).toBe("Hello from the gateway.");
    expect(final.output_text).toBe("Hello from the gateway.");
    expect(final.id).toMatch(/^resp_/);
  });

  it("a tool call: the function_call item with call_id and whole arguments; the output sent back", async () => {
    const final = await client.responses
      .stream({ model: "tools", input: "weather?", tools: [weatherTool] })
      .finalResponse();
    const call = final.output.find((o) => o.type === "function_call");
    expect(call).toMatchObject({
      type: "function_call",
      call_id: "call_w1",
      name: "get_weather",
      arguments: '{"city":"Paris"}',
      status: "completed",
    });
    expect(call!.id).toMatch(/^fc_/);
    const second = await client.responses.create({
      model: "tools",
      input: [
        { role: "user", content: "weather?" },
        ...(final.output as OpenAI.Responses.ResponseInputItem[]),
        { type: "function_call_output", call_id: "call_w1", output: "sunny" },
      ],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe("It is sunny.");
  });

  it("reasoning: a reasoning item with the summary before the message", async () => {
    const summary: string[] = [];
    const stream = client.responses.stream({
      model: "reasoning",
      input: "hi",
      reasoning: { effort: "low", summary: "auto" },
    });
    stream.on("response.reasoning_summary_text.delta", (e) => summary.push(e.delta));
    const final = await stream.finalResponse();
    expect(summary.join("")).toBe("The user greets; greet back.");
    expect(final.output.map((o) => o.type)).toEqual(["reasoning", "message"]);
    expect(final.output_text).toBe("Hi!");
  });

  it("incomplete: response.incomplete with its reason; the text so far reaches the SDK", async () => {
    const stream = client.responses.stream({
      model: "incomplete",
      input: "hi",
      max_output_tokens: 5,
    });
    let reason: string | undefined;
    stream.on("response.incomplete", (e) => (reason = e.response.incomplete_details?.reason));
    const final = await stream.finalResponse();
    expect(reason).toBe("max_output_tokens");
    // The SDK keeps its own snapshot unless the end is response.completed: the text is there.
    expect(final.output_text).toBe("This answer was cut");
  });

  it("failed: response.failed carries the error; the SDK does not throw mid-stream", async () => {
    const stream = client.responses.stream({ model: "failed", input: "hi" });
    let error: unknown;
    stream.on("response.failed", (e) => (error = e.response.error));
    await stream.finalResponse();
    expect(error).toEqual({ code: "upstream_error", message: "upstream exploded" });
  });

  it("retrieve as object, and as a stream resumed with starting_after (server- and client-side)", async () => {
    const created = await client.responses.create({ model: "text", input: "hi", stream: true });
    const all: { type: string; sequence_number: number }[] = [];
    for await (const e of created) all.push(e);
    const id = (all[0] as unknown as { response: { id: string } }).response.id;
    expect((await client.responses.retrieve(id)).output_text).toBe("Hello from the gateway.");
    // The server skips what the reader has.
    const n = 4;
    const rest: number[] = [];
    for await (const e of await client.responses.retrieve(id, { stream: true, starting_after: n }))
      rest.push(e.sequence_number);
    expect(rest).toEqual(all.slice(n + 1).map((e) => e.sequence_number));
    // responses.stream({response_id, starting_after}) asks for the whole stream and skips ≤ N itself.
    const resumed: number[] = [];
    const stream = client.responses.stream({ response_id: id, starting_after: n });
    stream.on("event", (e) => resumed.push(e.sequence_number));
    expect((await stream.finalResponse()).output_text).toBe("Hello from the gateway.");
    expect(resumed).toEqual(rest);
    expect(server.requests.at(-1)!.url).not.toContain("starting_after");
  });

  it("an unknown id is the 404 the SDK raises as NotFoundError", async () => {
    await expect(client.responses.retrieve("resp_nope")).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
  });
});

describe("LangChain ChatOpenAI({ useResponsesApi: true }), as LibreChat's Responses mode", () => {
  const lc = (model: string, streaming: boolean) =>
    new ChatOpenAI({
      model,
      apiKey: "k",
      useResponsesApi: true,
      streaming,
      maxRetries: 0,
      configuration: { baseURL: server.baseURL },
    });

  it("invoke and stream a text answer with usage", async () => {
    const answer = await lc("text", false).invoke([new HumanMessage("hi")]);
    expect(answer.content).toEqual([
      expect.objectContaining({ type: "text", text: "Hello from the gateway." }),
    ]);
    let whole: AIMessageChunk | undefined;
    for await (const chunk of await lc("text", true).stream([new HumanMessage("hi")]))
      whole = whole ? whole.concat(chunk) : chunk;
    expect(whole!.text).toBe("Hello from the gateway.");
    expect(whole!.usage_metadata).toMatchObject({
      input_tokens: 9,
      output_tokens: 4,
      total_tokens: 13,
    });
    expect(server.bodies.at(-1)).toMatchObject({ model: "text", stream: true });
  });

  it("a streamed tool call becomes tool_calls; the replayed turn (with fc_ ids) is accepted", async () => {
    const model = lc("tools", true).bindTools([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather in a city",
          parameters: weatherTool.parameters,
        },
      },
    ]);
    let whole: AIMessageChunk | undefined;
    for await (const chunk of await model.stream([new HumanMessage("weather?")]))
      whole = whole ? whole.concat(chunk) : chunk;
    expect(whole!.tool_calls).toEqual([
      expect.objectContaining({ name: "get_weather", args: { city: "Paris" }, id: "call_w1" }),
    ]);
    const { ToolMessage } = await import("@langchain/core/messages");
    let second: AIMessageChunk | undefined;
    for await (const chunk of await model.stream([
      new HumanMessage("weather?"),
      whole!,
      new ToolMessage({ content: "sunny", tool_call_id: "call_w1" }),
    ])) {
      second = second ? second.concat(chunk) : chunk;
    }
    expect(second!.text).toBe("It is sunny.");
    const replayed = server.bodies.at(-1)!.input as { type?: string; id?: string }[];
    expect(replayed.map((i) => i.type)).toContain("function_call_output");
  });

  it("reasoning summaries reach additional_kwargs.reasoning", async () => {
    let whole: AIMessageChunk | undefined;
    for await (const chunk of await lc("reasoning", true).stream([new HumanMessage("hi")]))
      whole = whole ? whole.concat(chunk) : chunk;
    const reasoning = whole!.additional_kwargs.reasoning as { summary: { text: string }[] };
    expect(reasoning.summary.map((s) => s.text).join("")).toBe("The user greets; greet back.");
    expect(whole!.text).toBe("Hi!");
  });

  it("an incomplete answer streams its text", async () => {
    let whole: AIMessageChunk | undefined;
    for await (const chunk of await lc("incomplete", true).stream([new HumanMessage("hi")]))
      whole = whole ? whole.concat(chunk) : chunk;
    expect(whole!.text).toBe("This answer was cut");
  });

  it("a failed response: invoke throws the response's error", async () => {
    await expect(lc("failed", false).invoke([new HumanMessage("hi")])).rejects.toThrow(
      "upstream exploded",
    );
  });
});
