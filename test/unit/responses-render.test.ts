import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ResponseObjectSchema,
  ResponseStreamEventSchema,
  type ChatCompletedPayload,
  type ChatDeltaPayload,
  type ResponseRecord,
  type ResponseStreamEvent,
} from "../../contracts/index.js";
import {
  ResponseEventRenderer,
  renderEvents,
  responseObjectOf,
  type RenderInput,
} from "../../src/gateway/responses/event-renderer.js";
import type { ResponseContext } from "../../src/gateway/responses/response-object.js";
import { responseEventsSse } from "../../src/gateway/responses/sse.js";

const ctx = (record: Partial<ResponseRecord> = {}, background = false): ResponseContext => ({
  id: "resp_s1",
  model: "sea",
  createdAt: 1_700_000_000,
  background,
  record: { input: [], ...record },
});
const clock = () => 1_700_000_009;

let seq = 0;
const d = (payload: ChatDeltaPayload): RenderInput => ({ kind: "delta", seq: ++seq, payload });
const usage = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };
const completed = (
  finish: ChatCompletedPayload["finish_reason"] = "stop",
  message: ChatCompletedPayload["message"] = { role: "assistant", content: "" },
): RenderInput => ({ kind: "completed", payload: { message, finish_reason: finish, usage } });
const failed = (code: string | null, message = "upstream exploded"): RenderInput => ({
  kind: "failed",
  payload: { error: { message, type: "server_error", code, status: 502 } },
});
const tool = (index: number, args: string, id?: string, name?: string) => ({
  tool_calls: [
    {
      index,
      ...(id ? { id, type: "function" as const } : {}),
      function: { ...(name ? { name } : {}), arguments: args },
    },
  ],
});

const render = (c: ResponseContext, ds: RenderInput[]) => renderEvents(c, ds, { clock });
/** `type` or `type:item_id`, in order. */
const show = (events: ResponseStreamEvent[]) =>
  events.map((e) => ("item_id" in e ? `${e.type.slice(9)}:${e.item_id}` : e.type.slice(9)));
const last = (events: ResponseStreamEvent[]) => events[events.length - 1]!;
const terminalResponse = (events: ResponseStreamEvent[]) => {
  const t = last(events);
  if (!("response" in t)) throw new Error(`ends with ${t.type}`);
  return t.response;
};

/** Every stream: valid events numbered 0, 1, 2…, ids never the chat's, one terminal at the end. */
function checkStream(events: ResponseStreamEvent[]): void {
  events.forEach((e, i) => {
    expect(e.sequence_number).toBe(i);
    const parsed = ResponseStreamEventSchema.safeParse(e);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    if ("response" in e) expect(ResponseObjectSchema.safeParse(e.response).success).toBe(true);
  });
  expect(JSON.stringify(events)).not.toContain("chatcmpl");
  expect(events[0]!.type).toBe("response.created");
  const terminals = ["response.completed", "response.incomplete", "response.failed"];
  expect(events.filter((e) => terminals.includes(e.type)).length).toBe(1);
  expect(terminals).toContain(last(events).type);
  // Every item added is done.
  const added = events.filter((e) => e.type === "response.output_item.added").length;
  expect(events.filter((e) => e.type === "response.output_item.done").length).toBe(added);
}

describe("ResponseEventRenderer: the event order of RESPONSES.md §3", () => {
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

  it.each<[string, ChatCompletedPayload["finish_reason"], string]>([
    ["max tokens", "length", "max_output_tokens"],
    ["a content filter", "content_filter", "content_filter"],
  ])(
    "stopped by %s: response.incomplete with its reason, the open item incomplete",
    (_n, finish, reason) => {
      const events = render(ctx(), [d({ content: "cut" }), completed(finish)]);
      checkStream(events);
      expect(last(events).type).toBe("response.incomplete");
      expect(terminalResponse(events)).toMatchObject({
        status: "incomplete",
        incomplete_details: { reason },
        output: [{ status: "incomplete", content: [{ text: "cut" }] }],
        usage: { total_tokens: 12 },
      });
    },
  );

  it("a failure: open items end incomplete, then response.failed with the error (never only an error event)", () => {
    const events = render(ctx(), [
      d({ content: "partial" }),
      d(tool(0, "{", "c1", "f")),
      failed("rate_limit_exceeded", "try again in 3s"),
    ]);
    checkStream(events);
    expect(events.some((e) => (e.type as string) === "error")).toBe(false);
    expect(show(events).slice(-3)).toEqual([
      "function_call_arguments.done:fc_s1_1",
      "output_item.done",
      "failed",
    ]);
    expect(terminalResponse(events)).toMatchObject({
      status: "failed",
      error: { code: "rate_limit_exceeded", message: "try again in 3s" },
      output: [{ status: "completed" }, { status: "incomplete", arguments: "{" }],
      usage: null,
    });
  });

  it("a failure without a code names its type; a cancel is status cancelled", () => {
    expect(terminalResponse(render(ctx(), [failed(null)])).error).toEqual({
      code: "server_error",
      message: "upstream exploded",
    });
    const cancelled = render(ctx({}, true), [failed("cancelled", "cancelled by the client")]);
    checkStream(cancelled);
    expect(terminalResponse(cancelled)).toMatchObject({
      status: "cancelled",
      error: { code: "cancelled" },
    });
  });

  it("background: created and queued at once (status queued), in_progress with the first delivery", () => {
    const r = new ResponseEventRenderer(ctx({}, true), { clock });
    const opening = r.begin();
    expect(opening.map((e) => [e.type, "response" in e ? e.response.status : null])).toEqual([
      ["response.created", "queued"],
      ["response.queued", "queued"],
    ]);
    expect(r.snapshot().status).toBe("queued");
    expect(r.begin()).toEqual([]);
    const first = r.push(d({ content: "x" }));
    expect(first[0]).toMatchObject({
      type: "response.in_progress",
      sequence_number: 2,
      response: { status: "in_progress", background: true },
    });
    const all = [...opening, ...first, ...r.push(completed())];
    checkStream(all);
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

  it("abort(): an interruption outside the run ends the stream as failed, once", () => {
    const r = new ResponseEventRenderer(ctx(), { clock });
    const events = [
      ...r.begin(),
      ...r.push(d({ content: "a" })),
      ...r.abort({ code: "stream_interrupted", message: "read it again" }),
    ];
    checkStream(events);
    expect(terminalResponse(events)).toMatchObject({
      status: "failed",
      error: { code: "stream_interrupted" },
    });
    expect(r.done).toBe(true);
    expect(r.push(d({ content: "late" }))).toEqual([]);
    expect(r.abort({ code: "x", message: "y" })).toEqual([]);
  });

  it("writes SSE as event: + data: with the same type", () => {
    const [created] = render(ctx(), [completed()]);
    const text = responseEventsSse([created!]);
    expect(text).toBe(`event: response.created\ndata: ${JSON.stringify(created)}\n\n`);
  });
});

describe("responseObjectOf: the object of a run so far", () => {
  it("in progress: the items so far; cancelled once a cancel was asked for; final once ended", () => {
    const ds = [d({ content: "so far" })];
    expect(responseObjectOf(ctx(), ds)).toMatchObject({
      status: "in_progress",
      completed_at: null,
      output: [{ status: "in_progress", content: [{ text: "so far" }] }],
    });
    expect(responseObjectOf(ctx({}, true), [], { cancelRequested: true }).status).toBe("cancelled");
    const done = responseObjectOf(ctx(), [...ds, completed()], { clock, cancelRequested: true });
    expect(done).toEqual(terminalResponse(render(ctx(), [...ds, completed()])));
    expect(ResponseObjectSchema.safeParse(done).success).toBe(true);
  });
});

// ---- determinism: the numbering depends on the deliveries only --------------------------

const deltaArb: fc.Arbitrary<ChatDeltaPayload> = fc.oneof(
  fc.record({ content: fc.string({ maxLength: 4 }) }),
  fc.record({ reasoning_content: fc.string({ maxLength: 4 }) }),
  fc.record({
    tool_calls: fc.array(
      fc.record({
        index: fc.integer({ min: 0, max: 2 }),
        function: fc.record(
          { name: fc.constantFrom("f", "g"), arguments: fc.string({ maxLength: 3 }) },
          { requiredKeys: ["arguments"] },
        ),
      }),
      { minLength: 1, maxLength: 2 },
    ),
  }),
  fc.record({
    content: fc.string({ maxLength: 3 }),
    reasoning_content: fc.string({ maxLength: 3 }),
  }),
);
const terminalArb: fc.Arbitrary<RenderInput> = fc.oneof(
  fc
    .constantFrom<ChatCompletedPayload["finish_reason"]>(
      "stop",
      "length",
      "tool_calls",
      "content_filter",
    )
    .map((f) => completed(f)),
  fc.constantFrom("cancelled", "upstream_error", null).map((c) => failed(c)),
);
const runArb = fc
  .tuple(fc.array(deltaArb, { maxLength: 12 }), terminalArb, fc.boolean())
  .map(([deltas, terminal, background]) => ({
    deliveries: [
      ...deltas.map((payload, i): RenderInput => ({ kind: "delta", seq: i + 1, payload })),
      terminal,
    ],
    background,
  }));

describe("ResponseEventRenderer: deterministic numbering, exact resume", () => {
  it("any run: a valid stream; a prefix of the deliveries renders a prefix of the events", () => {
    fc.assert(
      fc.property(runArb, fc.nat(), ({ deliveries, background }, cut) => {
        const c = ctx({}, background);
        const all = render(c, deliveries);
        checkStream(all);
        const k = cut % deliveries.length; // never the terminal: a stream still open
        const partial = render(c, deliveries.slice(0, k));
        expect(all.slice(0, partial.length)).toEqual(partial);
      }),
    );
  });

  it("any run, read in any batches, gives the same events; resuming after N gives exactly the rest", () => {
    fc.assert(
      fc.property(
        runArb,
        fc.array(fc.nat({ max: 4 }), { maxLength: 20 }),
        fc.nat(),
        ({ deliveries, background }, splits, n) => {
          const c = ctx({}, background);
          const all = render(c, deliveries);
          // A reader that took the deliveries in batches, as a live feed hands them over.
          const r = new ResponseEventRenderer(c, { clock });
          const got = [...r.begin()];
          let at = 0;
          for (const size of [...splits, deliveries.length]) {
            for (const x of deliveries.slice(at, at + size)) got.push(...r.push(x));
            at = Math.min(deliveries.length, at + size);
          }
          expect(got).toEqual(all);
          // A resume with starting_after=N: a new renderer over the same deliveries.
          const after = n % (all.length + 1);
          const resumed = renderEvents(c, deliveries, { clock, startingAfter: after - 1 });
          expect(resumed).toEqual(all.slice(after));
        },
      ),
    );
  });
});
