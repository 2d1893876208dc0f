import { describe, expect, it } from "vitest";
import { deltaOf } from "../../adapters/handlers/openai-upstream.js";

describe("deltaOf (an upstream chunk's choice as a delta)", () => {
  it("keeps what the chunk adds, in the delta's field order", () => {
    const toolCalls = [{ index: 0, id: "c1", function: { name: "f", arguments: "{" } }];
    const logprobs = { content: [{ token: "a", logprob: -0.1, bytes: null, top_logprobs: [] }] };
    const delta = deltaOf({
      logprobs,
      delta: { tool_calls: toolCalls, reasoning_content: "why", content: "a" },
    } as never);
    expect(JSON.stringify(delta)).toBe(
      JSON.stringify({ content: "a", reasoning_content: "why", tool_calls: toolCalls, logprobs }),
    );
  });

  it("is null for a chunk that adds nothing (role, finish, empty logprobs)", () => {
    expect(deltaOf({ delta: { role: "assistant", content: "" } } as never)).toBeNull();
    expect(deltaOf({ delta: {}, finish_reason: "stop" })).toBeNull();
    expect(deltaOf({ finish_reason: "stop" })).toBeNull();
    expect(
      deltaOf({ delta: { tool_calls: [] }, logprobs: { content: [], refusal: [] } }),
    ).toBeNull();
  });

  it("takes reasoning under either name, and the one that has text", () => {
    expect(deltaOf({ delta: { reasoning: "r" } })).toEqual({ reasoning_content: "r" });
    expect(deltaOf({ delta: { reasoning_content: "a", reasoning: "b" } })).toEqual({
      reasoning_content: "a",
    });
    expect(deltaOf({ delta: { reasoning_content: "", reasoning: "b" } })).toEqual({
      reasoning_content: "b",
    });
    expect(deltaOf({ delta: { reasoning_content: null, content: "c" } })).toEqual({ content: "c" });
  });
});
