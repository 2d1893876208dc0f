import { describe, expect, it } from "vitest";
import { responseEventsSse } from "../../src/gateway/responses/sse.js";
import {
  checkStream,
  completed,
  ctx,
  d,
  render,
  show,
  terminalResponse,
  tool,
} from "../helpers/responses-render.js";

describe("ResponseEventRenderer: each kind of item, in the order of RESPONSES.md §3", () => {
  it("a text answer", () => {
    const events = render(ctx(), [
      d({ content: "Hel" }),
      d({ content: "lo" }),
      completed("stop", { role: "assistant", content: "Hello" }),
    ]);
    checkStream(events);
    expect(show(events)).toEqual([
      "created",
      "in_progress",
      "output_item.added",
      "content_part.added:msg_s1_0",
      "output_text.delta:msg_s1_0",
      "output_text.delta:msg_s1_0",
      "output_text.done:msg_s1_0",
      "content_part.done:msg_s1_0",
      "output_item.done",
      "completed",
    ]);
    expect(events[4]).toMatchObject({
      delta: "Hel",
      output_index: 0,
      content_index: 0,
      logprobs: [],
    });
    expect(events[6]).toMatchObject({ text: "Hello" });
    const r = terminalResponse(events);
    expect(r).toMatchObject({
      id: "resp_s1",
      status: "completed",
      completed_at: 1_700_000_009,
      output: [
        {
          id: "msg_s1_0",
          type: "message",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: "Hello", annotations: [] }],
        },
      ],
      usage: {
        input_tokens: 5,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 7,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 12,
      },
      error: null,
      incomplete_details: null,
    });
    // The snapshots: in progress, nothing yet.
    expect(events[0]).toMatchObject({
      response: { status: "in_progress", output: [], usage: null, completed_at: null },
    });
  });

  it("reasoning (as a summary) before the message, at output_index 0 and 1", () => {
    const events = render(ctx(), [
      d({ reasoning_content: "think" }),
      d({ reasoning_content: "ing" }),
      d({ content: "A" }),
      completed(),
    ]);
    checkStream(events);
    expect(show(events).slice(2)).toEqual([
      "output_item.added",
      "reasoning_summary_part.added:rs_s1_0",
      "reasoning_summary_text.delta:rs_s1_0",
      "reasoning_summary_text.delta:rs_s1_0",
      "reasoning_summary_text.done:rs_s1_0",
      "reasoning_summary_part.done:rs_s1_0",
      "output_item.done",
      "output_item.added",
      "content_part.added:msg_s1_1",
      "output_text.delta:msg_s1_1",
      "output_text.done:msg_s1_1",
      "content_part.done:msg_s1_1",
      "output_item.done",
      "completed",
    ]);
    expect(terminalResponse(events).output).toEqual([
      { id: "rs_s1_0", type: "reasoning", summary: [{ type: "summary_text", text: "thinking" }] },
      {
        id: "msg_s1_1",
        type: "message",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: "A", annotations: [] }],
      },
    ]);
  });

  it("parallel tool calls, their fragments interleaved, after some text", () => {
    const events = render(ctx(), [
      d({ content: "Calling." }),
      d(tool(0, '{"a"', "call_up0", "f")),
      d(tool(1, '{"b"', undefined, "g")),
      d(tool(0, ":1}")),
      d(tool(1, ":2}")),
      completed("tool_calls"),
    ]);
    checkStream(events);
    expect(show(events).slice(8)).toEqual([
      "output_item.added",
      "function_call_arguments.delta:fc_s1_1",
      "output_item.added",
      "function_call_arguments.delta:fc_s1_2",
      "function_call_arguments.delta:fc_s1_1",
      "function_call_arguments.delta:fc_s1_2",
      "function_call_arguments.done:fc_s1_1",
      "output_item.done",
      "function_call_arguments.done:fc_s1_2",
      "output_item.done",
      "completed",
    ]);
    expect(events[8]).toMatchObject({
      item: {
        id: "fc_s1_1",
        type: "function_call",
        call_id: "call_up0",
        name: "f",
        arguments: "",
        status: "in_progress",
      },
    });
    expect(terminalResponse(events).output.slice(1)).toEqual([
      {
        id: "fc_s1_1",
        type: "function_call",
        call_id: "call_up0",
        name: "f",
        arguments: '{"a":1}',
        status: "completed",
      },
      // No id from the upstream: one derived from the response, never empty.
      {
        id: "fc_s1_2",
        type: "function_call",
        call_id: "call_s1_1",
        name: "g",
        arguments: '{"b":2}',
        status: "completed",
      },
    ]);
  });

  it("a namespace function's call carries the namespace and its own name (Codex dispatches by both)", () => {
    const record = {
      namespaced_tools: {
        multi_agent_v1__close_agent: ["multi_agent_v1", "close_agent"] as [string, string],
      },
    };
    const events = render(ctx(record), [
      d(tool(0, "{}", "c1", "multi_agent_v1__close_agent")),
      completed("tool_calls"),
    ]);
    checkStream(events);
    expect(terminalResponse(events).output).toEqual([
      {
        id: "fc_s1_0",
        type: "function_call",
        call_id: "c1",
        name: "close_agent",
        namespace: "multi_agent_v1",
        arguments: "{}",
        status: "completed",
      },
    ]);
  });

  it("a custom tool's call is a custom_tool_call whose input is the one string argument", () => {
    const events = render(ctx({ custom_tools: ["apply_patch"] }), [
      d(tool(0, '{"input":"*** Begin', "c1", "apply_patch")),
      d(tool(0, ' Patch"}')),
      completed("tool_calls"),
    ]);
    checkStream(events);
    expect(show(events).slice(2)).toEqual([
      "output_item.added",
      "custom_tool_call_input.delta:ctc_s1_0",
      "custom_tool_call_input.done:ctc_s1_0",
      "output_item.done",
      "completed",
    ]);
    expect(events[3]).toMatchObject({ delta: "*** Begin Patch" });
    expect(terminalResponse(events).output).toEqual([
      {
        id: "ctc_s1_0",
        type: "custom_tool_call",
        call_id: "c1",
        name: "apply_patch",
        input: "*** Begin Patch",
      },
    ]);
  });

  it("an answer that was not streamed (no deltas) is rendered from the completed event", () => {
    const events = render(ctx(), [
      completed("tool_calls", {
        role: "assistant",
        content: "Sure.",
        reasoning_content: "hmm",
        tool_calls: [{ id: "c9", type: "function", function: { name: "f", arguments: "{}" } }],
      }),
    ]);
    checkStream(events);
    expect(terminalResponse(events).output.map((i) => [i.type, i.id])).toEqual([
      ["reasoning", "rs_s1_0"],
      ["message", "msg_s1_1"],
      ["function_call", "fc_s1_2"],
    ]);
  });

  it("writes SSE as event: + data: with the same type", () => {
    const [created] = render(ctx(), [completed()]);
    const text = responseEventsSse([created!]);
    expect(text).toBe(`event: response.created\ndata: ${JSON.stringify(created)}\n\n`);
  });
});
