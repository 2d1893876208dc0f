import { describe, expect, it } from "vitest";
import { ChatDeliverySchema, ResponseRecordSchema } from "../../contracts/index.js";
import { parseResponsesRequest } from "../../src/gateway/responses/parse-request.js";
import { responseRecordOf, responsesToChat } from "../../src/gateway/responses/request-to-chat.js";
import { codexTurn } from "../helpers/codex-turn.js";

const ok = { model: "sea", input: "hi" };

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
