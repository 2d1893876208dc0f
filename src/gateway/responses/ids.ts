/**
 * Ids of a response and its items, all derived from the run's stream id: the same on every
 * gateway instance and on every replay, and never a chat id (`chatcmpl-…`) leaking into
 * Responses items (LiteLLM PR #37946).
 */

const RESPONSE_PREFIX = "resp_";

/** `resp_<stream id>`: one response is one run. */
export function responseIdOf(streamId: string): string {
  return RESPONSE_PREFIX + streamId;
}

/** The stream id a `resp_…` id names, or null for anything else. */
export function streamIdOfResponse(responseId: string): string | null {
  if (!responseId.startsWith(RESPONSE_PREFIX)) return null;
  const streamId = responseId.slice(RESPONSE_PREFIX.length);
  return streamId.length > 0 ? streamId : null;
}

/** The id prefix of each item type, as OpenAI mints them (a Map: item types come from clients). */
const ITEM_PREFIX = new Map<string, string>([
  ["message", "msg"],
  ["function_call", "fc"],
  ["function_call_output", "fco"],
  ["reasoning", "rs"],
  ["custom_tool_call", "ctc"],
  ["custom_tool_call_output", "ctco"],
]);

const prefixOf = (type: string) => ITEM_PREFIX.get(type) ?? "item";

/** The body of a response id: what item ids are made from. */
const bodyOf = (responseId: string) => streamIdOfResponse(responseId) ?? responseId;

/** The id of output item `index` (`msg_…`, `fc_…`, `rs_…`, `ctc_…`). */
export function outputItemId(responseId: string, type: string, index: number): string {
  return `${prefixOf(type)}_${bodyOf(responseId)}_${index}`;
}

/** The id given to input item `index` when the client sent it without one. */
export function inputItemId(responseId: string, type: string, index: number): string {
  return `${prefixOf(type)}_${bodyOf(responseId)}_in${index}`;
}

/** The `call_id` of a tool call whose upstream gave none. */
export function callIdOf(responseId: string, toolIndex: number): string {
  return `call_${bodyOf(responseId)}_${toolIndex}`;
}
