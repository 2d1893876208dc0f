import type {
  ChatCompletionRequest,
  ResponseFormat,
  ResponseInputItem,
  ResponseRecord,
  ResponsesRequest,
} from "../../../contracts/index.js";
import { BadRequestError } from "../../errors.js";
import { inputItemId } from "./ids.js";
import { itemsToMessages, type BridgeItem } from "./items-to-messages.js";
import { mapToolChoice, mapTools, type MappedTools } from "./tools.js";

/**
 * The chat request a response runs as (`response_format` and `max_completion_tokens` in chat's
 * names, passed to upstreams as sent).
 */
export type ChatRequestBody = ChatCompletionRequest;

/** `text.format` as chat's `response_format`; plain text is the default and is left out. */
function responseFormatOf(req: ResponsesRequest): ResponseFormat | undefined {
  const format = req.text?.format;
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  const { type: _type, ...jsonSchema } = format;
  return { type: "json_schema", json_schema: jsonSchema as { name: string } };
}

/** The request's input as items (a string is one user message). */
export function inputItemsOf(req: ResponsesRequest): ResponseInputItem[] {
  if (typeof req.input !== "string") return req.input;
  return [{ type: "message", role: "user", content: [{ type: "input_text", text: req.input }] }];
}

/**
 * A validated Responses request as the chat request its run executes: `chain` holds the items
 * of the `previous_response_id` chain (inputs and outputs, oldest first; see `chainItems`).
 * `instructions` lead as a system message (never inherited from the chain). Returns the mapped
 * tools too: the response record keeps how chat tool names map back.
 */
export function responsesToChat(
  req: ResponsesRequest,
  opts: { chain?: readonly BridgeItem[] } = {},
): { chat: ChatRequestBody; tools: MappedTools } {
  const tools = mapTools(req.tools);
  const messages = itemsToMessages(inputItemsOf(req), { chain: opts.chain ?? [] });
  if (req.instructions) messages.unshift({ role: "system", content: req.instructions });
  if (messages.length === 0) {
    throw new BadRequestError(
      "input: the request has nothing for the model to answer (no message, no tool output).",
      "input",
      "invalid_value",
    );
  }
  const chat: ChatRequestBody = { model: req.model, messages };
  const set = <K extends keyof ChatRequestBody>(k: K, v: ChatRequestBody[K] | null | undefined) => {
    if (v !== undefined && v !== null) chat[k] = v;
  };
  set("stream", req.stream);
  set("background", req.background);
  set("store", req.store);
  if (tools.chat.length > 0) {
    set("tools", tools.chat);
    // Without tools an upstream refuses both (the request's tools may all be built-ins).
    set("tool_choice", mapToolChoice(req.tool_choice, tools));
    set("parallel_tool_calls", req.parallel_tool_calls);
  }
  set("temperature", req.temperature);
  set("top_p", req.top_p);
  set("max_completion_tokens", req.max_output_tokens);
  set("reasoning_effort", req.reasoning?.effort);
  set("response_format", responseFormatOf(req));
  set("metadata", req.metadata);
  set("user", req.user);
  set("prompt_cache_key", req.prompt_cache_key);
  return { chat, tools };
}

/**
 * What the response stores (see `ResponseRecordSchema`): its input items with ids (the
 * client's, else minted from `responseId` and the position; an `item_reference` stored as the
 * item it names, found in `chain`), the settings it echoes, and how tool names map back.
 */
export function responseRecordOf(
  req: ResponsesRequest,
  tools: MappedTools,
  opts: { responseId: string; chain?: readonly BridgeItem[] },
): ResponseRecord {
  const known = new Map<string, BridgeItem>();
  for (const item of opts.chain ?? []) if (typeof item.id === "string") known.set(item.id, item);
  const input = inputItemsOf(req).map((item, i) => {
    const found = item.type === "item_reference" ? known.get(item.id) : undefined;
    const it = (found ?? item) as { type?: string; id?: string | null };
    const type = it.type ?? "message";
    const stored = { ...it, type, id: it.id || inputItemId(opts.responseId, type, i) };
    known.set(stored.id, stored);
    return stored;
  });
  const record: ResponseRecord = { input };
  const set = <K extends keyof ResponseRecord>(k: K, v: ResponseRecord[K] | null | undefined) => {
    if (v !== undefined && v !== null) record[k] = v;
  };
  set("instructions", req.instructions);
  set("previous_response_id", req.previous_response_id);
  if (tools.echo.length > 0) record.tools = tools.echo;
  if (tools.custom.length > 0) record.custom_tools = tools.custom;
  if (Object.keys(tools.namespaced).length > 0) record.namespaced_tools = tools.namespaced;
  set("tool_choice", req.tool_choice);
  set("parallel_tool_calls", req.parallel_tool_calls);
  set("text", req.text);
  set("reasoning", req.reasoning);
  set("max_output_tokens", req.max_output_tokens);
  set("max_tool_calls", req.max_tool_calls);
  set("temperature", req.temperature);
  set("top_p", req.top_p);
  set("top_logprobs", req.top_logprobs);
  set("truncation", req.truncation);
  set("metadata", req.metadata);
  set("store", req.store);
  set("safety_identifier", req.safety_identifier);
  set("prompt_cache_key", req.prompt_cache_key);
  return record;
}
