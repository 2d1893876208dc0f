import { describe, expect, it } from "vitest";
import { BadRequestError, toOpenAIError } from "../../src/errors.js";
import { parseResponsesRequest } from "../../src/gateway/responses/parse-request.js";
import { responsesToChat } from "../../src/gateway/responses/request-to-chat.js";
import { codexTurn } from "../helpers/codex-turn.js";

/** The 400 a body gets: `[param, code, message]`. */
function refusal(body: unknown): [string | null, string | null, string] {
  try {
    responsesToChat(parseResponsesRequest(body));
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequestError);
    const { status, body: e } = toOpenAIError(err);
    expect(status).toBe(400);
    return [e.error.param, e.error.code, e.error.message];
  }
  throw new Error("the body was accepted");
}

const ok = { model: "sea", input: "hi" };

describe("parseResponsesRequest: bad input is a 400 naming the parameter", () => {
  it.each<[string, unknown, string | null, string]>([
    ["a body that is not an object", [1], null, "invalid_type"],
    ["no model", { input: "hi" }, "model", "missing_required_parameter"],
    ["a model that is not a string", { model: 7, input: "hi" }, "model", "invalid_type"],
    ["no input", { model: "sea" }, "input", "missing_required_parameter"],
    ["input a number", { model: "sea", input: 3 }, "input", "invalid_type"],
    ["input an object", { model: "sea", input: { role: "user" } }, "input", "invalid_type"],
    ["input an empty list", { model: "sea", input: [] }, "input", "invalid_value"],
    ["an item that is not an object", { ...ok, input: ["hi"] }, "input[0]", "invalid_type"],
    [
      "an unknown item type",
      {
        ...ok,
        input: [
          { role: "user", content: "a" },
          { type: "foo_call", id: "x" },
        ],
      },
      "input[1].type",
      "invalid_value",
    ],
    [
      "an item with no type or role",
      { ...ok, input: [{ content: "a" }] },
      "input[0].type",
      "missing_required_parameter",
    ],
    [
      "an unknown content part",
      {
        ...ok,
        input: [
          { role: "user", content: [{ type: "input_text", text: "a" }, { type: "input_audio" }] },
        ],
      },
      "input[0].content[1].type",
      "invalid_value",
    ],
    [
      "a function_call without call_id",
      { ...ok, input: [{ type: "function_call", name: "f", arguments: "{}" }] },
      "input[0].call_id",
      "missing_required_parameter",
    ],
    [
      "a message with a bad role",
      { ...ok, input: [{ type: "message", role: "tool", content: "a" }] },
      "input[0].role",
      "invalid_value",
    ],
    [
      "an image by file id",
      { ...ok, input: [{ role: "user", content: [{ type: "input_image", file_id: "file-1" }] }] },
      "input[0].content[0].image_url",
      "unsupported_value",
    ],
    [
      "a reference to an unknown item",
      { ...ok, input: [{ type: "item_reference", id: "msg_nope" }] },
      "input[0].id",
      "item_not_found",
    ],
    ["conversation", { ...ok, conversation: "conv_1" }, "conversation", "unsupported_parameter"],
    ["prompt", { ...ok, prompt: { id: "pmpt_1" } }, "prompt", "unsupported_parameter"],
    ["temperature out of range", { ...ok, temperature: 3 }, "temperature", "invalid_value"],
    ["temperature a string", { ...ok, temperature: "hot" }, "temperature", "invalid_type"],
    [
      "tool_choice function without a name",
      { ...ok, tools: [{ type: "function", name: "f" }], tool_choice: { type: "function" } },
      "tool_choice.name",
      "missing_required_parameter",
    ],
    ["max_output_tokens 0", { ...ok, max_output_tokens: 0 }, "max_output_tokens", "invalid_value"],
    [
      "more than 16 metadata keys",
      { ...ok, metadata: Object.fromEntries([...Array(17).keys()].map((i) => [`k${i}`, "v"])) },
      "metadata",
      "invalid_value",
    ],
    [
      "a function tool without a name",
      { ...ok, tools: [{ type: "function", parameters: {} }] },
      "tools[0].name",
      "missing_required_parameter",
    ],
    [
      "two tools under one name",
      {
        ...ok,
        tools: [
          { type: "function", name: "a__b" },
          { type: "namespace", name: "a", tools: [{ type: "function", name: "b" }] },
        ],
      },
      "tools[1].tools[0].name",
      "invalid_value",
    ],
    [
      "tool_choice naming a tool not offered",
      {
        ...ok,
        tools: [{ type: "function", name: "f" }],
        tool_choice: { type: "function", name: "g" },
      },
      "tool_choice.name",
      "invalid_value",
    ],
    [
      "a json_schema format without a schema",
      { ...ok, text: { format: { type: "json_schema", name: "x" } } },
      "text.format.schema",
      "missing_required_parameter",
    ],
  ])("%s", (_name, body, param, code) => {
    const [gotParam, gotCode, message] = refusal(body);
    expect({ param: gotParam, code: gotCode }).toEqual({ param, code });
    expect(message.length).toBeGreaterThan(10);
  });

  it("names the unknown item type in the message", () => {
    const [, , message] = refusal({ ...ok, input: [{ type: "tool_searchy", id: "x" }] });
    expect(message).toContain("'tool_searchy'");
    expect(message).toContain("input[0].type");
  });
});

describe("parseResponsesRequest: what clients send is accepted", () => {
  it("takes Codex's turn whole: namespace and web_search tools, store:false, include, client_metadata", () => {
    const req = parseResponsesRequest(codexTurn());
    expect(req.model).toBe("sea");
    expect(Array.isArray(req.input) && req.input.length).toBe(3);
  });

  it("takes built-in tool items of a Codex history (Bifrost #4596) and unknown tool types", () => {
    const req = parseResponsesRequest({
      ...ok,
      input: [
        { role: "user", content: "run it" },
        { type: "tool_search_call", id: "ts_1", query: "x" },
        { type: "tool_search_output", id: "tso_1", tools: [] },
        { type: "local_shell_call", id: "lsh_1", call_id: "c", action: {} },
      ],
      tools: [
        { type: "mcp", server_label: "x" },
        { type: "computer_use_preview" },
        { type: "apply_patch" },
      ],
      tool_choice: { type: "web_search" },
    });
    const { chat } = responsesToChat(req);
    expect(chat.messages).toEqual([{ role: "user", content: "run it" }]);
    expect(chat.tools).toBeUndefined();
    expect(chat.tool_choice).toBeUndefined();
  });

  it("keeps replayed ids and fields it does not read (LangChain and Codex replay them)", () => {
    const item = {
      type: "message",
      id: "msg_old",
      role: "assistant",
      phase: "final_answer",
      content: [{ type: "output_text", text: "x", annotations: [] }],
    };
    const req = parseResponsesRequest({ ...ok, input: [item] });
    expect(req.input).toEqual([item]);
  });

  it("takes the Open Responses suite's inputs: a system message, a string assistant content, a data: image", () => {
    const req = parseResponsesRequest({
      ...ok,
      input: [
        { type: "message", role: "system", content: "be brief" },
        { type: "message", role: "assistant", content: "earlier" },
        {
          type: "message",
          role: "user",
          content: [{ type: "input_image", image_url: "data:image/png;base64,AA==" }],
        },
      ],
    });
    expect(responsesToChat(req).chat.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "assistant", content: "earlier" },
      {
        role: "user",
        content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AA==" } }],
      },
    ]);
  });
});
