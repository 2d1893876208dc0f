import { describe, expect, it } from "vitest";
import {
  ChatCompletionRequestSchema,
  ChatParamsSchema,
  subjectSpace,
  type ChatCapability,
  type ChatCommandPayload,
} from "../../contracts/index.js";
import { buildChatCommand } from "../../src/gateway/commands/chat-command.js";
import { unansweredParam } from "../../src/gateway/commands/chat-request.js";

const capability: ChatCapability = {
  kind: "chat",
  id: "m",
  context: "sea",
  command: "chat_completion",
  command_version: 1,
  handler: "openai",
};

const paramsOf = (body: Record<string, unknown>) =>
  (
    buildChatCommand(subjectSpace(), {
      request: ChatCompletionRequestSchema.parse({
        model: "m",
        messages: [{ role: "user", content: "hi" }],
        ...body,
      }),
      capability,
      tenant: "acme",
      streamId: "s1",
      correlationId: "c1",
      delivery: {},
    }).envelope.payload as ChatCommandPayload
  ).params;

describe("the chat command's parameters", () => {
  it("carry every parameter the command schema knows, each under its own name", () => {
    const sent = {
      temperature: 0.2,
      top_p: 0.5,
      max_tokens: 10,
      max_completion_tokens: 20,
      stop: ["a"],
      presence_penalty: 1,
      frequency_penalty: -1,
      logit_bias: { "1": 5 },
      seed: 3,
      tools: [{ type: "function" }],
      tool_choice: "none",
      parallel_tool_calls: true,
      response_format: { type: "json_object" },
      logprobs: true,
      top_logprobs: 1,
      modalities: ["text"],
      prediction: { type: "content", content: "x" },
      web_search_options: {},
      prompt_cache_key: "k",
      prompt_cache_retention: "24h",
      reasoning_effort: "low",
      verbosity: "high",
      service_tier: "auto",
      safety_identifier: "h",
      store: false,
      metadata: { a: "b" },
    };
    // The test lists them all: a parameter added to the schema must be passed on too.
    expect(Object.keys(sent).sort()).toEqual(Object.keys(ChatParamsSchema.shape).sort());
    expect(paramsOf(sent)).toEqual(sent);
  });

  it("leave out what the client did not send, or sent as null", () => {
    expect(paramsOf({ temperature: null, response_format: null, logprobs: null })).toEqual({});
  });
});

describe("unansweredParam", () => {
  const req = (body: Record<string, unknown>) =>
    ChatCompletionRequestSchema.parse({
      model: "m",
      messages: [{ role: "user", content: "x" }],
      ...body,
    });

  it.each([
    [{ response_format: { type: "json_object" } }, [], "response_format"],
    [
      { response_format: { type: "json_schema", json_schema: { name: "n" } } },
      [],
      "response_format",
    ],
    [{ logprobs: true }, ["response_format"], "logprobs"],
    [{ top_logprobs: 0 }, [], "top_logprobs"],
    [{ web_search_options: {} }, [], "web_search_options"],
    [{ functions: [] }, ["response_format", "logprobs"], "functions"],
    [{ function_call: "auto" }, [], "function_call"],
    [{ audio: { voice: "x" } }, [], "audio"],
    [{ modalities: ["audio"] }, [], "modalities"],
  ] as const)("refuses %j when the model honours %j", (body, honours, param) => {
    expect(unansweredParam(req(body), "m", honours)?.param).toBe(param);
  });

  it.each([
    [{ response_format: { type: "text" } }, []],
    [{ logprobs: false, modalities: ["text"] }, []],
    [{ response_format: { type: "json_object" }, logprobs: true }, ["response_format", "logprobs"]],
  ] as const)("lets %j through when the model honours %j", (body, honours) => {
    expect(unansweredParam(req(body), "m", honours)).toBeNull();
  });

  it("says which model and what it honours", () => {
    expect(unansweredParam(req({ logprobs: true }), "sea", [])?.message).toBe(
      "The model 'sea' does not support 'logprobs' (it honours none); send the request without it, or use a model that does.",
    );
  });
});
