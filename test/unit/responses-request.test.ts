import { describe, expect, it } from "vitest";
import {
  ChatCompletionRequestSchema,
  ChatDeliverySchema,
  ResponseRecordSchema,
} from "../../contracts/index.js";
import { BadRequestError, toOpenAIError } from "../../src/errors.js";
import { parseResponsesRequest } from "../../src/gateway/responses/parse-request.js";
import { responseRecordOf, responsesToChat } from "../../src/gateway/responses/request-to-chat.js";

/** The body Codex 0.171.0 sent on a first turn (observed; texts shortened). */
const codexTurn = () => ({
  model: "sea",
  stream: true,
  input: [
    {
      type: "message",
      id: "msg_f1ac2b2f",
      role: "developer",
      content: [{ type: "input_text", text: "You are a coding agent running in the Codex CLI." }],
    },
    {
      type: "message",
      id: "msg_01a24f26-a",
      role: "user",
      content: [{ type: "input_text", text: "<environment_context>…</environment_context>" }],
    },
    {
      type: "message",
      id: "msg_01a24f26-b",
      role: "user",
      content: [{ type: "input_text", text: "say hi" }],
    },
  ],
  tools: [
    {
      type: "function",
      name: "exec_command",
      description: "Runs a command in a PTY.",
      strict: false,
      parameters: { type: "object", properties: { cmd: { type: "string" } }, required: ["cmd"] },
    },
    {
      type: "namespace",
      name: "multi_agent_v1",
      description: "Tools for spawning and managing sub-agents.",
      tools: [
        {
          type: "function",
          name: "close_agent",
          description: "Close an agent.",
          strict: false,
          parameters: { type: "object", properties: { target: { type: "string" } } },
        },
      ],
    },
    { type: "web_search", external_web_access: false },
  ],
  tool_choice: "auto",
  parallel_tool_calls: true,
  reasoning: { summary: "auto" },
  store: false,
  include: ["reasoning.encrypted_content"],
  prompt_cache_key: "01a24f26-59bf-75c2-be5a-538174f944c6",
  client_metadata: { "x-codex-turn-metadata": "{}" },
});

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

describe("responsesToChat: the field mapping", () => {
  const chatOf = (extra: Record<string, unknown>) =>
    responsesToChat(parseResponsesRequest({ ...ok, ...extra })).chat as Record<string, unknown>;

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ["input string → one user message", {}, { messages: [{ role: "user", content: "hi" }] }],
    [
      "instructions → a leading system message",
      { instructions: "Be terse." },
      {
        messages: [
          { role: "system", content: "Be terse." },
          { role: "user", content: "hi" },
        ],
      },
    ],
    ["stream", { stream: true }, { stream: true }],
    ["background", { background: true }, { background: true }],
    ["store", { store: false }, { store: false }],
    ["temperature, top_p", { temperature: 0.2, top_p: 0.9 }, { temperature: 0.2, top_p: 0.9 }],
    [
      "max_output_tokens → max_completion_tokens",
      { max_output_tokens: 64 },
      { max_completion_tokens: 64 },
    ],
    [
      "reasoning.effort → reasoning_effort",
      { reasoning: { effort: "high", summary: "auto" } },
      { reasoning_effort: "high" },
    ],
    [
      "text.format json_object → response_format",
      { text: { format: { type: "json_object" } } },
      { response_format: { type: "json_object" } },
    ],
    [
      "text.format json_schema → response_format.json_schema",
      {
        text: {
          format: { type: "json_schema", name: "out", schema: { type: "object" }, strict: true },
        },
      },
      {
        response_format: {
          type: "json_schema",
          json_schema: { name: "out", schema: { type: "object" }, strict: true },
        },
      },
    ],
    ["metadata", { metadata: { a: "1" } }, { metadata: { a: "1" } }],
    ["user", { user: "u-1" }, { user: "u-1" }],
    ["prompt_cache_key", { prompt_cache_key: "k" }, { prompt_cache_key: "k" }],
    [
      "function tools → chat tools; tool_choice and parallel_tool_calls pass",
      {
        tools: [
          {
            type: "function",
            name: "f",
            description: "d",
            parameters: { type: "object" },
            strict: true,
          },
        ],
        tool_choice: "required",
        parallel_tool_calls: false,
      },
      {
        tools: [
          {
            type: "function",
            function: { name: "f", description: "d", parameters: { type: "object" }, strict: true },
          },
        ],
        tool_choice: "required",
        parallel_tool_calls: false,
      },
    ],
    [
      "tool_choice {type:function,name} → chat's object form",
      { tools: [{ type: "function", name: "f" }], tool_choice: { type: "function", name: "f" } },
      { tool_choice: { type: "function", function: { name: "f" } } },
    ],
    [
      "tool_choice allowed_tools → chat's allowed_tools",
      {
        tools: [
          { type: "function", name: "f" },
          { type: "function", name: "g" },
        ],
        tool_choice: {
          type: "allowed_tools",
          mode: "required",
          tools: [{ type: "function", name: "g" }, { type: "web_search" }],
        },
      },
      {
        tool_choice: {
          type: "allowed_tools",
          allowed_tools: {
            mode: "required",
            tools: [{ type: "function", function: { name: "g" } }],
          },
        },
      },
    ],
    [
      "custom tool → a function of one string; tool_choice custom → that function",
      {
        tools: [{ type: "custom", name: "apply_patch", description: "Patch files." }],
        tool_choice: { type: "custom", name: "apply_patch" },
      },
      {
        tools: [
          {
            type: "function",
            function: {
              name: "apply_patch",
              description: "Patch files.",
              parameters: {
                type: "object",
                properties: {
                  input: { type: "string", description: "The tool's input, as free-form text." },
                },
                required: ["input"],
                additionalProperties: false,
              },
            },
          },
        ],
        tool_choice: { type: "function", function: { name: "apply_patch" } },
      },
    ],
  ])("%s", (_name, extra, expected) => {
    const chat = chatOf(extra);
    expect(chat).toMatchObject(expected);
    // The body is one the chat path takes.
    expect(ChatCompletionRequestSchema.safeParse(chat).success).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      "text.format text (the default)",
      { text: { format: { type: "text" }, verbosity: "low" } },
      ["response_format"],
    ],
    [
      "accepted-and-ignored fields",
      {
        include: ["x"],
        truncation: "auto",
        service_tier: "flex",
        safety_identifier: "s",
        top_logprobs: 2,
        client_metadata: {},
        stream_options: {},
        max_tool_calls: 3,
      },
      [
        "include",
        "truncation",
        "service_tier",
        "safety_identifier",
        "top_logprobs",
        "client_metadata",
        "stream_options",
        "max_tool_calls",
        "logprobs",
      ],
    ],
    [
      "tool_choice and parallel_tool_calls without a bridgeable tool",
      { tools: [{ type: "web_search" }], tool_choice: "required", parallel_tool_calls: true },
      ["tools", "tool_choice", "parallel_tool_calls"],
    ],
  ])("leaves out %s", (_name, extra, absent) => {
    const chat = chatOf(extra);
    for (const key of absent) expect(chat).not.toHaveProperty(key);
  });

  it("flattens Codex's namespace tools and drops web_search", () => {
    const { chat, tools } = responsesToChat(parseResponsesRequest(codexTurn()));
    expect(
      chat.tools!.map((t) => (t as unknown as { function: { name: string } }).function.name),
    ).toEqual(["exec_command", "multi_agent_v1__close_agent"]);
    expect(tools.namespaced).toEqual({
      multi_agent_v1__close_agent: ["multi_agent_v1", "close_agent"],
    });
    expect(chat.messages.map((m) => m.role)).toEqual(["system", "user", "user"]);
    expect(chat).toMatchObject({
      stream: true,
      store: false,
      tool_choice: "auto",
      parallel_tool_calls: true,
      prompt_cache_key: "01a24f26-59bf-75c2-be5a-538174f944c6",
    });
    expect(chat).not.toHaveProperty("reasoning_effort");
    expect(ChatCompletionRequestSchema.safeParse(chat).success).toBe(true);
  });
});

describe("responsesToChat: items bridged to chat messages", () => {
  const messagesOf = (input: unknown[], chain: unknown[] = []) =>
    responsesToChat(parseResponsesRequest({ ...ok, input }), { chain: chain as never }).chat
      .messages;

  it("a Codex tool turn: the function_call joins the assistant text, its output is a tool message", () => {
    expect(
      messagesOf([
        { type: "message", role: "user", content: [{ type: "input_text", text: "run echo" }] },
        { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "thinking" }] },
        {
          type: "message",
          role: "assistant",
          content: [{ type: "output_text", text: "Running it." }],
        },
        {
          type: "function_call",
          id: "fc_1",
          call_id: "call_1",
          name: "exec_command",
          arguments: '{"cmd":"echo a"}',
          status: "completed",
        },
        {
          type: "function_call",
          id: "fc_2",
          call_id: "call_2",
          name: "close_agent",
          namespace: "multi_agent_v1",
          arguments: "{}",
        },
        { type: "function_call_output", id: "fco_1", call_id: "call_1", output: "a\n" },
        {
          type: "function_call_output",
          call_id: "call_2",
          output: [{ type: "input_text", text: "closed" }],
        },
      ]),
    ).toEqual([
      { role: "user", content: "run echo" },
      {
        role: "assistant",
        content: "Running it.",
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "exec_command", arguments: '{"cmd":"echo a"}' },
          },
          {
            id: "call_2",
            type: "function",
            function: { name: "multi_agent_v1__close_agent", arguments: "{}" },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "a\n" },
      { role: "tool", tool_call_id: "call_2", content: "closed" },
    ]);
  });

  it("custom tool calls carry their input as the one string argument", () => {
    expect(
      messagesOf([
        { type: "custom_tool_call", call_id: "c1", name: "apply_patch", input: "*** Begin Patch" },
        { type: "custom_tool_call_output", call_id: "c1", output: "done" },
      ]),
    ).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "c1",
            type: "function",
            function: { name: "apply_patch", arguments: '{"input":"*** Begin Patch"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "done" },
    ]);
  });

  it("images in tool outputs follow the tool messages as a user turn (chat tools take text only)", () => {
    expect(
      messagesOf([
        { type: "function_call", call_id: "c1", name: "view_image", arguments: "{}" },
        {
          type: "function_call_output",
          call_id: "c1",
          output: [{ type: "input_image", image_url: "data:image/png;base64,AA==" }],
        },
        { role: "user", content: "what is it?" },
      ]),
    ).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "c1", type: "function", function: { name: "view_image", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "" },
      {
        role: "user",
        content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AA==" } }],
      },
      { role: "user", content: "what is it?" },
    ]);
  });

  it("several text parts stay parts; developer becomes system", () => {
    expect(
      messagesOf([
        {
          role: "developer",
          content: [
            { type: "input_text", text: "a" },
            { type: "input_text", text: "b" },
          ],
        },
      ]),
    ).toEqual([
      {
        role: "system",
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
      },
    ]);
  });

  it("a chain comes first; item_reference finds its items", () => {
    const chain = [
      {
        type: "message",
        id: "msg_p_in0",
        role: "user",
        content: [{ type: "input_text", text: "first" }],
      },
      {
        type: "message",
        id: "msg_p_0",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: "answer", annotations: [] }],
      },
    ];
    expect(
      messagesOf(
        [
          { type: "item_reference", id: "msg_p_in0" },
          { role: "user", content: "second" },
        ],
        chain,
      ),
    ).toEqual([
      { role: "user", content: "first" },
      { role: "assistant", content: "answer" },
      { role: "user", content: "first" },
      { role: "user", content: "second" },
    ]);
  });
});

describe("responseRecordOf: what a response stores", () => {
  it("gives every input item an id (the client's, else one minted from the response id)", () => {
    const req = parseResponsesRequest({
      ...ok,
      input: [
        { role: "user", content: "a" },
        { type: "function_call_output", id: "fco_client", call_id: "c", output: "x" },
        { type: "function_call", call_id: "c2", name: "f", arguments: "{}" },
      ],
    });
    const { tools } = responsesToChat(req);
    const record = responseRecordOf(req, tools, { responseId: "resp_s1" });
    expect(record.input.map((i) => [i.type, i.id])).toEqual([
      ["message", "msg_s1_in0"],
      ["function_call_output", "fco_client"],
      ["function_call", "fc_s1_in2"],
    ]);
  });

  it("stores a string input as the user message OpenAI lists, and an item_reference as the item", () => {
    const req = parseResponsesRequest({ ...ok, input: "hello" });
    expect(
      responseRecordOf(req, responsesToChat(req).tools, { responseId: "resp_s2" }).input,
    ).toEqual([
      {
        type: "message",
        id: "msg_s2_in0",
        role: "user",
        content: [{ type: "input_text", text: "hello" }],
      },
    ]);
    const chain = [{ type: "message", id: "msg_old", role: "user", content: "x" }];
    const ref = parseResponsesRequest({
      ...ok,
      input: [{ type: "item_reference", id: "msg_old" }],
    });
    expect(
      responseRecordOf(ref, responsesToChat(ref, { chain: chain as never }).tools, {
        responseId: "resp_s3",
        chain: chain as never,
      }).input,
    ).toEqual(chain);
  });

  it("keeps the echoed settings and the tool maps, and survives the command's delivery field", () => {
    const req = parseResponsesRequest({
      ...codexTurn(),
      instructions: "Be terse.",
      previous_response_id: "resp_prev",
      metadata: { k: "v" },
      text: { format: { type: "json_object" } },
      max_output_tokens: 10,
      tools: [...codexTurn().tools, { type: "custom", name: "apply_patch" }],
    });
    const { tools } = responsesToChat(req);
    const record = responseRecordOf(req, tools, { responseId: "resp_s4" });
    expect(record).toMatchObject({
      instructions: "Be terse.",
      previous_response_id: "resp_prev",
      metadata: { k: "v" },
      store: false,
      max_output_tokens: 10,
      custom_tools: ["apply_patch"],
      namespaced_tools: { multi_agent_v1__close_agent: ["multi_agent_v1", "close_agent"] },
      tool_choice: "auto",
      reasoning: { summary: "auto" },
      prompt_cache_key: "01a24f26-59bf-75c2-be5a-538174f944c6",
    });
    expect(record.tools!.map((t) => t.name)).toEqual([
      "exec_command",
      "multi_agent_v1__close_agent",
    ]);
    expect(ResponseRecordSchema.parse(record)).toEqual(record);
    // The outbox row is JSON; the stream directory parses `delivery` back with this schema.
    const stored = JSON.parse(JSON.stringify({ background: true, response: record }));
    expect(ChatDeliverySchema.parse(stored)).toEqual({ background: true, response: record });
  });
});
