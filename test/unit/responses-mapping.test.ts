import { describe, expect, it } from "vitest";
import { ChatCompletionRequestSchema } from "../../contracts/index.js";
import { parseResponsesRequest } from "../../src/gateway/responses/parse-request.js";
import { responsesToChat } from "../../src/gateway/responses/request-to-chat.js";
import { codexTurn } from "../helpers/codex-turn.js";

const ok = { model: "sea", input: "hi" };

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
