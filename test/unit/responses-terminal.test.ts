import { describe, expect, it } from "vitest";
import { ResponseObjectSchema, type ChatCompletedPayload } from "../../contracts/index.js";
import {
  ResponseEventRenderer,
  responseObjectOf,
  type RenderInput,
} from "../../src/gateway/responses/event-renderer.js";
import {
  checkStream,
  clock,
  completed,
  ctx,
  d,
  failed,
  last,
  render,
  show,
  terminalResponse,
  tool,
} from "../helpers/responses-render.js";

describe("ResponseEventRenderer: how a response ends, and how a background one starts", () => {
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

  it("a rate limit is rate_limit_exceeded with the wait in the message (Codex's retry delay)", () => {
    const limited: RenderInput = {
      kind: "failed",
      payload: {
        error: {
          message: "Slow down.",
          type: "rate_limit_error",
          code: "upstream_rate_limited",
          status: 429,
          retry_after: 7,
        },
      },
    };
    expect(terminalResponse(render(ctx(), [limited])).error).toEqual({
      code: "rate_limit_exceeded",
      message: "Slow down. Please try again in 7s.",
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
