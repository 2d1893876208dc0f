import type {
  ChatCompletedPayload,
  ChatDeltaPayload,
  ChatFailedPayload,
  ResponseObject,
  ResponseStreamEvent,
} from "../../../contracts/index.js";
import { callIdOf, outputItemId } from "./ids.js";
import {
  appendToItem,
  closeItem,
  itemOf,
  openItem,
  type ItemState,
  type UnnumberedEvent,
} from "./output-items.js";
import {
  buildResponseObject,
  responseUsageOf,
  type ResponseContext,
  type ResponseState,
} from "./response-object.js";

/**
 * What the renderer reads: a run's deliveries in order (the shape of the run's `Delivery`
 * without `reset`, which a reader must handle itself: a stream cannot take back what it sent).
 */
export type RenderInput =
  | { kind: "delta"; seq: number; payload: ChatDeltaPayload }
  | { kind: "completed"; payload: ChatCompletedPayload }
  | { kind: "failed"; payload: ChatFailedPayload };

type TextItem = Extract<ItemState, { kind: "message" | "reasoning" }>;
type ToolDelta = NonNullable<ChatDeltaPayload["tool_calls"]>[number];

export interface RendererOptions {
  /** Events numbered ≤ this are rendered (they shape what follows) but not returned. */
  startingAfter?: number;
  /** Unix seconds for `completed_at`: the terminal event's stored time, to replay exactly. */
  clock?: () => number;
}

/**
 * Renders one response's run as the Responses event stream (RESPONSES.md §3).
 *
 * Sequence numbers count events from 0 (`response.created`), and every event is a function of
 * the deliveries before it only, never of how they were batched: rendering a run's first k
 * deliveries yields a prefix of rendering all of them. So the same run always gives the same
 * events with the same numbers, and a reader resuming after N renders from the start and drops
 * events ≤ N ({@link RendererOptions.startingAfter}).
 *
 * Items: `reasoning_content` is a reasoning item with one summary part (the events LangChain,
 * the SDK, Codex and Open Responses all read); `content` a message; each tool call `index` a
 * `function_call` (or `custom_tool_call`, for a custom tool's chat function). A message or
 * reasoning item closes when output of another kind begins; tool calls stay open until the end
 * (their fragments may interleave). Every item gets its `output_item.done`, and the stream
 * always ends with `response.completed`, `response.incomplete` or `response.failed`.
 */
export class ResponseEventRenderer {
  private next = 0;
  private begun = false;
  private running = false;
  private finished = false;
  private final: ResponseState | null = null;
  private readonly items: ItemState[] = [];
  private openText: TextItem | null = null;
  private readonly openCalls = new Map<number, Extract<ItemState, { args: string }>>();
  private out: ResponseStreamEvent[] = [];

  constructor(
    private readonly ctx: ResponseContext,
    private readonly opts: RendererOptions = {},
  ) {}

  /** The stream's ended (terminal event rendered). */
  get done(): boolean {
    return this.finished;
  }

  /** The number the next event gets. */
  get nextSequenceNumber(): number {
    return this.next;
  }

  /** The opening events (`created`, then `in_progress`, or `queued` for background). */
  begin(): ResponseStreamEvent[] {
    this.open();
    return this.flush();
  }

  /** The events one delivery adds. */
  push(d: RenderInput): ResponseStreamEvent[] {
    if (this.finished) return [];
    this.open();
    if (d.kind === "delta") this.delta(d.payload);
    else if (d.kind === "completed") this.complete(d.payload);
    else this.fail(failure(d.payload));
    return this.flush();
  }

  /**
   * Ends the stream as failed for a reason outside the run (the answer was interrupted, the
   * gateway is stopping): open items are closed, then `response.failed`. Unlike the events of
   * the run's own deliveries, a replay does not repeat these.
   */
  abort(error: { code: string; message: string }): ResponseStreamEvent[] {
    if (this.finished) return [];
    this.open();
    this.fail({ status: "failed", error });
    return this.flush();
  }

  /** The response object as rendered so far (the final one once {@link done}). */
  snapshot(): ResponseObject {
    if (this.final) return buildResponseObject(this.ctx, this.final);
    const status = this.running || !this.ctx.background ? "in_progress" : "queued";
    return buildResponseObject(this.ctx, { status, output: this.items.map(itemOf) });
  }

  private emit = (e: UnnumberedEvent): void => {
    const event = { ...e, sequence_number: this.next++ } as ResponseStreamEvent;
    if (this.opts.startingAfter === undefined || event.sequence_number > this.opts.startingAfter) {
      this.out.push(event);
    }
  };

  private flush(): ResponseStreamEvent[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private framing(type: "response.created" | "response.queued" | "response.in_progress") {
    this.emit({ type, response: this.snapshot() });
  }

  private open(): void {
    if (this.begun) return;
    this.begun = true;
    this.framing("response.created");
    if (this.ctx.background) this.framing("response.queued");
    else this.run();
  }

  /** `in_progress`: at once, or for background when the run's first delivery comes. */
  private run(): void {
    if (this.running) return;
    this.running = true;
    this.framing("response.in_progress");
  }

  private delta(p: ChatDeltaPayload): void {
    this.run();
    if (p.reasoning_content) this.text("reasoning", p.reasoning_content);
    if (p.content) this.text("message", p.content);
    for (const t of p.tool_calls ?? []) this.toolCall(t);
  }

  private text(kind: "message" | "reasoning", delta: string): void {
    let item = this.openText;
    if (item?.kind !== kind) {
      this.closeText("completed");
      const index = this.items.length;
      const id = outputItemId(this.ctx.id, kind, index);
      item = { kind, index, id, text: "", status: "in_progress" } as TextItem;
      this.openText = item;
      this.items.push(item);
      openItem(this.emit, item);
    }
    appendToItem(this.emit, item, delta);
  }

  private toolCall(t: ToolDelta): void {
    let call = this.openCalls.get(t.index);
    if (!call) {
      this.closeText("completed");
      call = this.newCall(t);
      this.openCalls.set(t.index, call);
      this.items.push(call);
      openItem(this.emit, call);
    } else if (t.function?.name) {
      // Name fragments add up, as the chat answer accumulates them.
      call.name += t.function.name;
    }
    if (t.function?.arguments) appendToItem(this.emit, call, t.function.arguments);
  }

  private newCall(t: ToolDelta): Extract<ItemState, { args: string }> {
    const index = this.items.length;
    const chatName = t.function?.name ?? "";
    const custom = this.ctx.record.custom_tools?.includes(chatName) === true;
    const kind = custom ? "custom_tool_call" : "function_call";
    const [namespace, name] = this.ctx.record.namespaced_tools?.[chatName] ?? [undefined, chatName];
    return {
      kind,
      index,
      id: outputItemId(this.ctx.id, kind, index),
      callId: t.id || callIdOf(this.ctx.id, t.index),
      name,
      namespace,
      args: "",
      status: "in_progress",
    };
  }

  private closeText(status: "completed" | "incomplete"): void {
    if (!this.openText) return;
    closeItem(this.emit, this.openText, status);
    this.openText = null;
  }

  private closeAll(status: "completed" | "incomplete"): void {
    this.closeText(status);
    const calls = [...this.openCalls.values()].sort((a, b) => a.index - b.index);
    for (const call of calls) closeItem(this.emit, call, status);
    this.openCalls.clear();
  }

  private complete(p: ChatCompletedPayload): void {
    // A handler that answered without streaming: its answer is the one delta.
    if (this.items.length === 0) this.delta(answerAsDelta(p));
    this.run();
    const incompleteReason =
      p.finish_reason === "length"
        ? "max_output_tokens"
        : p.finish_reason === "content_filter"
          ? "content_filter"
          : null;
    this.closeAll(incompleteReason ? "incomplete" : "completed");
    this.end(incompleteReason ? "response.incomplete" : "response.completed", {
      status: incompleteReason ? "incomplete" : "completed",
      usage: responseUsageOf(p.usage),
      incompleteReason,
    });
  }

  private fail(f: { status: "failed" | "cancelled"; error: { code: string; message: string } }) {
    this.run();
    this.closeAll("incomplete");
    this.end("response.failed", { status: f.status, error: f.error });
  }

  private end(
    type: "response.completed" | "response.incomplete" | "response.failed",
    state: ResponseState,
  ) {
    this.final = {
      ...state,
      output: this.items.map(itemOf),
      completedAt: (this.opts.clock ?? nowSeconds)(),
    };
    this.finished = true;
    this.emit({ type, response: this.snapshot() });
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * A `failed` event as the response's error; a cancel is status `cancelled`. A rate limit is
 * OpenAI's `rate_limit_exceeded` with "try again in Ns": what Codex reads its retry delay from.
 */
function failure(p: ChatFailedPayload): {
  status: "failed" | "cancelled";
  error: { code: string; message: string };
} {
  const e = p.error;
  if (e.status === 429) {
    const wait = e.retry_after !== undefined ? ` Please try again in ${e.retry_after}s.` : "";
    return { status: "failed", error: { code: "rate_limit_exceeded", message: e.message + wait } };
  }
  const code = e.code ?? e.type ?? "server_error";
  return {
    status: code === "cancelled" ? "cancelled" : "failed",
    error: { code, message: e.message },
  };
}

function answerAsDelta(p: ChatCompletedPayload): ChatDeltaPayload {
  const m = p.message;
  const d: ChatDeltaPayload = {};
  if (m.reasoning_content) d.reasoning_content = m.reasoning_content;
  if (m.content) d.content = m.content;
  if (m.tool_calls?.length) d.tool_calls = m.tool_calls.map((c, index) => ({ index, ...c }));
  return d;
}

/** Every event of a run's deliveries (e.g. to replay a finished one), after `startingAfter`. */
export function renderEvents(
  ctx: ResponseContext,
  deliveries: readonly RenderInput[],
  opts: RendererOptions = {},
): ResponseStreamEvent[] {
  const r = new ResponseEventRenderer(ctx, opts);
  return [...r.begin(), ...deliveries.flatMap((d) => r.push(d))];
}

/**
 * The response object of a run from its deliveries so far: the final one once it ended, else
 * the answer so far (`queued`/`in_progress`, or `cancelled` once a cancel was asked for).
 */
export function responseObjectOf(
  ctx: ResponseContext,
  deliveries: readonly RenderInput[],
  opts: { cancelRequested?: boolean; clock?: () => number } = {},
): ResponseObject {
  const r = new ResponseEventRenderer(ctx, opts.clock ? { clock: opts.clock } : {});
  r.begin();
  for (const d of deliveries) r.push(d);
  const object = r.snapshot();
  return !r.done && opts.cancelRequested ? { ...object, status: "cancelled" } : object;
}
