import { describe, expect, it } from "vitest";
import { zedProblems } from "../helpers/zed-checker.js";

const d = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`;

describe("the Zed-rules checker used on every streamed response", () => {
  it("accepts a well-formed stream with keep-alives, tool calls, usage and an error event", () => {
    const ok =
      ": keep-alive\n\n" +
      d({
        choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
      }) +
      d({
        choices: [
          { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: "{" } }] } },
        ],
      }) +
      d({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }) +
      d({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }) +
      d({ error: { message: "x" } }) +
      "data: [DONE]\n\n";
    expect(zedProblems(ok)).toEqual([]);
    // Zed skips lines that are not data lines: an event's id (the resume cursor) is fine.
    expect(
      zedProblems(`id: 7\n${d({ choices: [{ index: 0, delta: { content: "x" } }] })}`),
    ).toEqual([]);
  });

  it.each([
    ["a chunk without the data: prefix", '{"choices":[]}\n\n'],
    ["a chunk without choices", d({ object: "chat.completion.chunk" })],
    ["a choice without index", d({ choices: [{ delta: {} }] })],
    [
      "a usage chunk with choices",
      d({
        choices: [{ index: 0 }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      }),
    ],
    [
      "usage with nulls",
      d({ choices: [], usage: { prompt_tokens: null, completion_tokens: 1, total_tokens: 1 } }),
    ],
    [
      "a tool call without index",
      d({ choices: [{ index: 0, delta: { tool_calls: [{ id: "a" }] } }] }),
    ],
    ["an error without message", d({ error: { code: "x" } })],
    ["data after [DONE]", "data: [DONE]\n\n" + d({ choices: [] })],
    ["invalid JSON", "data: {oops\n\n"],
  ])("flags %s", (_what, sse) => {
    expect(zedProblems(sse)).not.toEqual([]);
  });
});
