import type { ResponseOutputItem, ResponseStreamEvent } from "../../../contracts/index.js";
import { CUSTOM_TOOL_ARGUMENT } from "./tools.js";

/** An event before the renderer numbers it. */
export type UnnumberedEvent = ResponseStreamEvent extends infer E
  ? E extends ResponseStreamEvent
    ? Omit<E, "sequence_number">
    : never
  : never;
export type Emit = (event: UnnumberedEvent) => void;

type ItemStatus = "in_progress" | "completed" | "incomplete";

/** One output item while it is rendered: its text (or arguments) so far and its status. */
export type ItemState =
  | { kind: "message"; index: number; id: string; text: string; status: ItemStatus }
  | { kind: "reasoning"; index: number; id: string; text: string; status: ItemStatus }
  | {
      kind: "function_call" | "custom_tool_call";
      index: number;
      id: string;
      callId: string;
      name: string;
      namespace?: string | undefined;
      /** Argument JSON text as the model streams it. */
      args: string;
      status: ItemStatus;
    };

/**
 * A custom tool's one string from the chat function's arguments (`{"input": "…"}`); arguments
 * that are not that object are passed on as they are.
 */
export function customInputOf(args: string): string {
  try {
    const parsed = JSON.parse(args) as unknown;
    const input = (parsed as Record<string, unknown> | null)?.[CUSTOM_TOOL_ARGUMENT];
    if (typeof input === "string") return input;
  } catch {
    // not JSON: the model wrote the text bare
  }
  return args;
}

/** The item as the response object and `output_item.*` events show it. */
export function itemOf(s: ItemState): ResponseOutputItem {
  switch (s.kind) {
    case "message":
      return {
        id: s.id,
        type: "message",
        role: "assistant",
        status: s.status,
        content:
          s.status === "in_progress" && s.text === ""
            ? []
            : [{ type: "output_text", text: s.text, annotations: [] }],
      };
    case "reasoning":
      return {
        id: s.id,
        type: "reasoning",
        summary: s.text === "" ? [] : [{ type: "summary_text", text: s.text }],
      };
    case "function_call": {
      const item: ResponseOutputItem = {
        id: s.id,
        type: "function_call",
        call_id: s.callId,
        name: s.name,
        arguments: s.args,
        status: s.status,
      };
      if (s.namespace !== undefined) item.namespace = s.namespace;
      return item;
    }
    case "custom_tool_call":
      return {
        id: s.id,
        type: "custom_tool_call",
        call_id: s.callId,
        name: s.name,
        input: s.status === "in_progress" ? "" : customInputOf(s.args),
      };
  }
}

/** `output_item.added`, then the empty part text streams into. */
export function openItem(emit: Emit, s: ItemState): void {
  const at = { item_id: s.id, output_index: s.index };
  emit({ type: "response.output_item.added", output_index: s.index, item: itemOf(s) });
  if (s.kind === "message") {
    emit({
      type: "response.content_part.added",
      ...at,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    });
  } else if (s.kind === "reasoning") {
    emit({
      type: "response.reasoning_summary_part.added",
      ...at,
      summary_index: 0,
      part: { type: "summary_text", text: "" },
    });
  }
}

/**
 * One piece of an item's text or arguments. A custom tool's input is JSON-escaped inside the
 * arguments while it streams: it is sent whole when the call closes.
 */
export function appendToItem(emit: Emit, s: ItemState, delta: string): void {
  const at = { item_id: s.id, output_index: s.index };
  if (s.kind === "message") {
    s.text += delta;
    emit({ type: "response.output_text.delta", ...at, content_index: 0, delta, logprobs: [] });
  } else if (s.kind === "reasoning") {
    s.text += delta;
    emit({ type: "response.reasoning_summary_text.delta", ...at, summary_index: 0, delta });
  } else {
    s.args += delta;
    if (s.kind === "function_call") {
      emit({ type: "response.function_call_arguments.delta", ...at, delta });
    }
  }
}

/** The item's done events, ending with `output_item.done` (what Codex reads the item from). */
export function closeItem(emit: Emit, s: ItemState, status: "completed" | "incomplete"): void {
  s.status = status;
  const at = { item_id: s.id, output_index: s.index };
  switch (s.kind) {
    case "message": {
      const part = { type: "output_text" as const, text: s.text, annotations: [] };
      emit({
        type: "response.output_text.done",
        ...at,
        content_index: 0,
        text: s.text,
        logprobs: [],
      });
      emit({ type: "response.content_part.done", ...at, content_index: 0, part });
      break;
    }
    case "reasoning":
      emit({ type: "response.reasoning_summary_text.done", ...at, summary_index: 0, text: s.text });
      emit({
        type: "response.reasoning_summary_part.done",
        ...at,
        summary_index: 0,
        part: { type: "summary_text", text: s.text },
      });
      break;
    case "function_call":
      emit({
        type: "response.function_call_arguments.done",
        ...at,
        name: s.name,
        arguments: s.args,
      });
      break;
    case "custom_tool_call": {
      const input = customInputOf(s.args);
      if (input !== "")
        emit({ type: "response.custom_tool_call_input.delta", ...at, delta: input });
      emit({ type: "response.custom_tool_call_input.done", ...at, input });
      break;
    }
  }
  emit({ type: "response.output_item.done", output_index: s.index, item: itemOf(s) });
}
