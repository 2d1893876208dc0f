import type { ChatMessage, ResponseInputItem } from "../../../contracts/index.js";
import { BadRequestError } from "../../errors.js";
import { CUSTOM_TOOL_ARGUMENT, flatName } from "./tools.js";

type Part = Record<string, unknown> & { type: string };
type ChatPart = { type: string; [k: string]: unknown };
type Assistant = Extract<ChatMessage, { role: "assistant" }>;
type ToolCall = NonNullable<Assistant["tool_calls"]>[number];

/** An item as the bridge reads it: any input item, or an earlier response's output item. */
export type BridgeItem = ResponseInputItem | ({ type: string; id?: string | null } & object);

const unsupported = (message: string, param: string) =>
  new BadRequestError(message, param, "unsupported_value");

/** One content part of a message as a chat part (images and files only where chat has them). */
function chatPart(part: Part, param: string): ChatPart {
  switch (part.type) {
    case "input_text":
    case "output_text":
      return { type: "text", text: part.text };
    case "refusal":
      return { type: "text", text: part.refusal };
    case "input_image": {
      if (typeof part.image_url !== "string") {
        throw unsupported(
          `${param}: images by file_id are not supported; send image_url (an https or data: URL).`,
          `${param}.image_url`,
        );
      }
      const image: Record<string, unknown> = { url: part.image_url };
      if (typeof part.detail === "string") image.detail = part.detail;
      return { type: "image_url", image_url: image };
    }
    case "input_file": {
      const file: Record<string, unknown> = {};
      for (const k of ["file_data", "file_id", "filename"]) if (part[k] != null) file[k] = part[k];
      if (file.file_data === undefined && file.file_id === undefined) {
        throw unsupported(
          `${param}: files by file_url are not supported; send file_data.`,
          `${param}.file_url`,
        );
      }
      return { type: "file", file };
    }
    default:
      throw unsupported(`${param}.type '${part.type}' cannot be sent to a chat model.`, param);
  }
}

/** A single text part is sent as a plain string: every upstream takes that. */
function chatContent(content: string | Part[], param: string): string | ChatPart[] {
  if (typeof content === "string") return content;
  const parts = content.map((p, j) => chatPart(p, `${param}.content[${j}]`));
  const only = parts.length === 1 ? parts[0]! : null;
  return only?.type === "text" ? String(only.text) : parts;
}

/** A tool's output: text for the tool message; images are shown to the model as a user turn. */
function toolOutput(output: string | Part[]): { text: string; images: ChatPart[] } {
  if (typeof output === "string") return { text: output, images: [] };
  const texts: string[] = [];
  const images: ChatPart[] = [];
  for (const p of output) {
    if (p.type === "input_text" || p.type === "output_text") texts.push(String(p.text));
    else if (p.type === "input_image" && typeof p.image_url === "string") {
      images.push({ type: "image_url", image_url: { url: p.image_url } });
    }
  }
  return { text: texts.join("\n"), images };
}

/**
 * Turns Responses items into chat messages, in order: the `chain` (the items of the responses
 * a `previous_response_id` names, oldest first), then `input`. `developer` → `system`;
 * consecutive `function_call` / `custom_tool_call` items join the assistant message before them
 * (one message with `tool_calls`); their outputs become `tool` messages; reasoning and built-in
 * tool items are dropped; `item_reference` is resolved among the items before it. Errors name
 * `input[i]…`.
 */
export function itemsToMessages(
  input: readonly BridgeItem[],
  opts: { chain?: readonly BridgeItem[] } = {},
): ChatMessage[] {
  const byId = new Map<string, BridgeItem>();
  const messages: ChatMessage[] = [];
  let pendingImages: ChatPart[] = [];

  const flushImages = () => {
    if (pendingImages.length === 0) return;
    messages.push({ role: "user", content: pendingImages as never });
    pendingImages = [];
  };
  const addCall = (call: ToolCall) => {
    flushImages();
    const last = messages[messages.length - 1];
    if (last?.role === "assistant") (last.tool_calls ??= []).push(call);
    else messages.push({ role: "assistant", content: null, tool_calls: [call] });
  };

  const bridge = (item: BridgeItem, param: string): void => {
    const it = item as Record<string, unknown> & { type?: string };
    const type = it.type ?? "message";
    if (type !== "function_call_output" && type !== "custom_tool_call_output") flushImages();
    switch (type) {
      case "message": {
        const role = it.role === "developer" ? "system" : (it.role as ChatMessage["role"]);
        const content = chatContent(it.content as string | Part[], param);
        messages.push({ role, content } as ChatMessage);
        return;
      }
      case "function_call": {
        const name =
          typeof it.namespace === "string" ? flatName(it.namespace, String(it.name)) : it.name;
        addCall({
          id: String(it.call_id),
          type: "function",
          function: { name: String(name), arguments: String(it.arguments) },
        });
        return;
      }
      case "custom_tool_call":
        addCall({
          id: String(it.call_id),
          type: "function",
          function: {
            name: String(it.name),
            arguments: JSON.stringify({ [CUSTOM_TOOL_ARGUMENT]: it.input }),
          },
        });
        return;
      case "function_call_output":
      case "custom_tool_call_output": {
        const { text, images } = toolOutput(it.output as string | Part[]);
        messages.push({ role: "tool", tool_call_id: String(it.call_id), content: text });
        pendingImages.push(...images);
        return;
      }
      case "item_reference": {
        const target = byId.get(String(it.id));
        if (!target || target.type === "item_reference") {
          throw new BadRequestError(
            `${param}.id: no item '${String(it.id).slice(0, 100)}' in this input or the previous response's.`,
            `${param}.id`,
            "item_not_found",
          );
        }
        bridge(target, param);
        return;
      }
      default:
        return; // reasoning and built-in tool items: nothing a chat model can take
    }
  };

  const each = (items: readonly BridgeItem[], param: (i: number) => string) =>
    items.forEach((item, i) => {
      bridge(item, param(i));
      if (typeof item.id === "string") byId.set(item.id, item);
    });
  each(opts.chain ?? [], () => "previous_response_id");
  each(input, (i) => `input[${i}]`);
  flushImages();
  return messages;
}
