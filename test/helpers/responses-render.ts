import { expect } from "vitest";
import {
  ResponseObjectSchema,
  ResponseStreamEventSchema,
  type ChatCompletedPayload,
  type ChatDeltaPayload,
  type ResponseRecord,
  type ResponseStreamEvent,
} from "../../contracts/index.js";
import { renderEvents, type RenderInput } from "../../src/gateway/responses/event-renderer.js";
import type { ResponseContext } from "../../src/gateway/responses/response-object.js";

/** Shared pieces of the Responses renderer tests: runs, deliveries, and the stream invariants. */

export const ctx = (record: Partial<ResponseRecord> = {}, background = false): ResponseContext => ({
  id: "resp_s1",
  model: "sea",
  createdAt: 1_700_000_000,
  background,
  record: { input: [], ...record },
});
export const clock = () => 1_700_000_009;

let seq = 0;
export const d = (payload: ChatDeltaPayload): RenderInput => ({
  kind: "delta",
  seq: ++seq,
  payload,
});
export const usage = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };
export const completed = (
  finish: ChatCompletedPayload["finish_reason"] = "stop",
  message: ChatCompletedPayload["message"] = { role: "assistant", content: "" },
): RenderInput => ({ kind: "completed", payload: { message, finish_reason: finish, usage } });
export const failed = (code: string | null, message = "upstream exploded"): RenderInput => ({
  kind: "failed",
  payload: { error: { message, type: "server_error", code, status: 502 } },
});
export const tool = (index: number, args: string, id?: string, name?: string) => ({
  tool_calls: [
    {
      index,
      ...(id ? { id, type: "function" as const } : {}),
      function: { ...(name ? { name } : {}), arguments: args },
    },
  ],
});

export const render = (c: ResponseContext, ds: RenderInput[]) => renderEvents(c, ds, { clock });
/** `type` or `type:item_id`, in order. */
export const show = (events: ResponseStreamEvent[]) =>
  events.map((e) => ("item_id" in e ? `${e.type.slice(9)}:${e.item_id}` : e.type.slice(9)));
export const last = (events: ResponseStreamEvent[]) => events[events.length - 1]!;
export const terminalResponse = (events: ResponseStreamEvent[]) => {
  const t = last(events);
  if (!("response" in t)) throw new Error(`ends with ${t.type}`);
  return t.response;
};

/** Every stream: valid events numbered 0, 1, 2…, ids never the chat's, one terminal at the end. */
export function checkStream(events: ResponseStreamEvent[]): void {
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
