import type {
  EchoedTool,
  FunctionTool,
  ResponseTool,
  ResponseToolChoice,
} from "../../../contracts/index.js";
import { BadRequestError } from "../../errors.js";

/** A tool in the chat wire format, as the chat path passes it to the upstream. */
export type ChatTool = {
  type: "function";
  function: {
    name: string;
    description?: string;
    parameters?: Record<string, unknown>;
    strict?: boolean;
  };
};

/** How a request's tools reach the model, and how its calls map back. */
export interface MappedTools {
  /** Offered to the model (empty when the request offered none we can bridge). */
  chat: ChatTool[];
  /** Echoed on the response object: function tools only (namespace functions flattened). */
  echo: EchoedTool[];
  /** Chat names that stand for `custom` tools (one string argument, `input`). */
  custom: string[];
  /** Chat name → `[namespace, name]` for the functions of `namespace` tools. */
  namespaced: Record<string, [string, string]>;
}

/** The argument a custom tool's one string travels in. */
export const CUSTOM_TOOL_ARGUMENT = "input";

/** A namespace function's chat name: chat names cannot hold dots. */
export const flatName = (namespace: string, name: string) => `${namespace}__${name}`;

function functionTool(t: FunctionTool, name = t.name): ChatTool {
  const fn: ChatTool["function"] = { name };
  if (t.description != null) fn.description = t.description;
  if (t.parameters != null) fn.parameters = t.parameters;
  if (t.strict != null) fn.strict = t.strict;
  return { type: "function", function: fn };
}

function echoOf(t: ChatTool): EchoedTool {
  const f = t.function;
  return {
    type: "function",
    name: f.name,
    description: f.description ?? null,
    parameters: f.parameters ?? null,
    strict: f.strict ?? null,
  };
}

/** A custom tool as a function of one string; a grammar is shown to the model as a hint. */
function customTool(t: Extract<ResponseTool, { type: "custom" }>): ChatTool {
  const format = t.format as { type: string; syntax?: unknown; definition?: unknown } | null;
  const hint =
    format?.type === "grammar" && typeof format.definition === "string"
      ? `The text must follow this ${String(format.syntax ?? "")} grammar:\n${format.definition}`
      : "The tool's input, as free-form text.";
  const fn: ChatTool["function"] = {
    name: t.name,
    parameters: {
      type: "object",
      properties: { [CUSTOM_TOOL_ARGUMENT]: { type: "string", description: hint } },
      required: [CUSTOM_TOOL_ARGUMENT],
      additionalProperties: false,
    },
  };
  if (t.description != null) fn.description = t.description;
  return { type: "function", function: fn };
}

/**
 * Maps a request's tools: `function` as is, `namespace` flattened (`<namespace>__<name>`),
 * `custom` as a one-string function; built-in and unknown types are dropped (Codex always
 * sends `web_search` and `namespace`: never a 400). Two tools under one chat name are a 400.
 */
export function mapTools(tools: readonly ResponseTool[] | null | undefined): MappedTools {
  const out: MappedTools = { chat: [], echo: [], custom: [], namespaced: {} };
  const seen = new Map<string, string>();
  const add = (tool: ChatTool, param: string, echo: boolean) => {
    const name = tool.function.name;
    const first = seen.get(name);
    if (first !== undefined) {
      throw new BadRequestError(
        `Two tools are named '${name}' (${first} and ${param}); tool names must be unique.`,
        `${param}.name`,
        "invalid_value",
      );
    }
    seen.set(name, param);
    out.chat.push(tool);
    if (echo) out.echo.push(echoOf(tool));
  };
  (tools ?? []).forEach((t, i) => {
    if (t.type === "function") add(functionTool(t as FunctionTool), `tools[${i}]`, true);
    else if (t.type === "custom") {
      const custom = t as Extract<ResponseTool, { type: "custom" }>;
      add(customTool(custom), `tools[${i}]`, false);
      out.custom.push(custom.name);
    } else if (t.type === "namespace") {
      const ns = t as Extract<ResponseTool, { type: "namespace" }>;
      ns.tools.forEach((inner, j) => {
        if (inner.type !== "function") return;
        const fn = inner as FunctionTool;
        const name = flatName(ns.name, fn.name);
        add(functionTool(fn, name), `tools[${i}].tools[${j}]`, true);
        out.namespaced[name] = [ns.name, fn.name];
      });
    }
  });
  return out;
}

const chatChoice = (name: string) => ({ type: "function", function: { name } });

/**
 * `tool_choice` for chat: the string forms as they are, a named function or custom tool as
 * chat's `{type:"function", function:{name}}`, `allowed_tools` as chat's; a built-in tool's
 * choice is dropped with the tool (undefined: the upstream's default).
 */
export function mapToolChoice(
  choice: ResponseToolChoice | null | undefined,
  tools: MappedTools,
): unknown {
  if (choice == null) return undefined;
  if (typeof choice === "string") return choice;
  const offered = new Set(tools.chat.map((t) => t.function.name));
  const named = choice as { type: string; name?: string; namespace?: unknown };
  const chatName = (name: string, namespace: unknown) =>
    typeof namespace === "string" ? flatName(namespace, name) : name;
  if (named.type === "function" || named.type === "custom") {
    const name = chatName(named.name!, named.namespace);
    if (!offered.has(name)) {
      throw new BadRequestError(
        `tool_choice names the tool '${name}', which is not among the request's tools.`,
        "tool_choice.name",
        "invalid_value",
      );
    }
    return chatChoice(name);
  }
  if (named.type === "allowed_tools") {
    const allowed = choice as { mode: string; tools: { type: string; name?: string }[] };
    const names = allowed.tools
      .filter((t) => (t.type === "function" || t.type === "custom") && t.name !== undefined)
      .map((t) => chatName(t.name!, (t as { namespace?: unknown }).namespace))
      .filter((n) => offered.has(n));
    // Only built-in tools were allowed, and none of them is offered: no tool can be called.
    if (names.length === 0) return "none";
    return {
      type: "allowed_tools",
      allowed_tools: { mode: allowed.mode, tools: names.map(chatChoice) },
    };
  }
  return undefined;
}
