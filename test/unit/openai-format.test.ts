import { describe, expect, it } from "vitest";
import { OpenAIFormatter } from "../../src/gateway/chat/openai-format.js";

describe("OpenAIFormatter", () => {
  const fmt = new OpenAIFormatter({ id: 'chatcmpl-"x"', created: 1700000000, model: "m/é" });

  it.each([
    [{ content: 'hello "quoted" \n ünïcode' }],
    [{ content: "" }],
    [{ reasoning_content: "thinking" }],
    [{ content: "a", reasoning_content: "b" }],
    [
      {
        tool_calls: [
          {
            index: 0,
            id: "c",
            type: "function" as const,
            function: { name: "f", arguments: "{}" },
          },
        ],
      },
    ],
    [{}],
    [
      {
        content: "Hi",
        logprobs: {
          content: [{ token: "Hi", logprob: -0.1, bytes: [72, 105], top_logprobs: [] }],
        },
      },
    ],
  ])("writes a delta chunk's JSON exactly as serialising the chunk object would: %j", (delta) => {
    expect(fmt.deltaChunkJson(delta)).toBe(JSON.stringify(fmt.deltaChunk(delta)));
  });

  it("puts a delta's log probabilities on its choice", () => {
    const logprobs = { content: [{ token: "a", logprob: -1, bytes: null, top_logprobs: [] }] };
    const chunk = JSON.parse(fmt.deltaChunkJson({ content: "a", logprobs })) as {
      choices: { delta: object; logprobs: unknown }[];
    };
    expect(chunk.choices[0]).toMatchObject({ delta: { content: "a" }, logprobs });
  });
});
