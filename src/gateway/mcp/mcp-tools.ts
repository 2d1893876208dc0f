import { randomUUID } from "node:crypto";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import {
  EditorActionResultSchema,
  type ActionCapability,
  type Capability,
  type EditorActionResult,
} from "../../../contracts/index.js";
import type { CapabilityCatalog } from "../../catalog.js";
import { toOpenAIError } from "../../errors.js";
import type { Log } from "../../log.js";
import { PACKAGE_VERSION } from "../../package-version.js";
import type { Principal } from "../../ports.js";
import type { ChatCommands } from "../chat-commands.js";
import type { EditorActions } from "../editor/editor-actions.js";
import type { Admission } from "../admission.js";
import { assertPromptWithinLimits } from "../limits.js";
import type { ChatRuns, StartOptions } from "../runs/chat-runs.js";
import { followRun, type ToolCall } from "./tool-run.js";

/** What the MCP tools need: the same use cases the HTTP routes run. */
export interface McpToolDeps {
  catalog: CapabilityCatalog;
  actions: EditorActions;
  commands: ChatCommands;
  runs: ChatRuns;
  /** The key's rate and stream slots, shared with every surface. */
  admission: Admission;
  /** The prompt limits every chat surface applies. */
  limits: { maxMessages: number; maxPromptChars: number };
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const ChatToolInput = z.object({
  prompt: z.string().min(1).describe("What to ask."),
  system: z.string().optional().describe("Instructions that frame the answer."),
});

/** The tool name of a chat model: `chat_<id>`, made of the characters MCP tool names allow. */
export const chatToolName = (c: Capability) => `chat_${c.id.replace(/[^A-Za-z0-9_-]/g, "_")}`;

/** A tool's error result: the gateway error's message and code, as MCP tools report failures. */
function toolError(err: unknown): CallToolResult {
  const { error } = toOpenAIError(err).body;
  const where = error.param ? ` (${error.param})` : "";
  return {
    isError: true,
    content: [{ type: "text", text: `${error.message}${where} [${error.code ?? error.type}]` }],
  };
}

/** An action's result as tool content: the text, the edits and diagnostics as JSON too. */
function actionResult(r: EditorActionResult): CallToolResult {
  const content: CallToolResult["content"] = [{ type: "text", text: r.text }];
  if (r.edits.length || r.diagnostics.length) {
    // For clients that ignore structured content (the MCP spec asks for both).
    content.push({
      type: "text",
      text: JSON.stringify({ edits: r.edits, diagnostics: r.diagnostics }),
    });
  }
  return { content, structuredContent: r };
}

/**
 * The MCP server one session of one key sees: a tool per editor action the key may run (its input
 * schema is the action's) and a `chat_<model>` tool per chat model it may use. Calls run through
 * the same runs as the HTTP API; progress goes out while they stream (when the client sent a
 * `progressToken`); a cancelled call cancels its command.
 */
export function buildMcpServer(principal: Principal, deps: McpToolDeps, log: Log): McpServer {
  const server = new McpServer(
    { name: "sea-gateway", version: PACKAGE_VERSION },
    {
      instructions:
        "SEA and VibesPro capabilities: editor actions (explain, refactor, generate tests, validate " +
        "specs) that answer text plus LSP edits and diagnostics, and one chat tool per model.",
    },
  );
  // Each call is a request of its own, with the key's stream slot like an HTTP one.
  const start = (): StartOptions => ({
    principal,
    correlationId: randomUUID(),
    log,
    releaseSlot: deps.admission.slot(principal),
  });
  const call = (extra: Extra, startedAt: number): ToolCall => ({
    startedAt,
    signal: extra.signal,
    progress: async (progress, message) => {
      const token = extra._meta?.progressToken;
      if (token === undefined) return;
      await extra.sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress, message },
      });
    },
  });
  const runAction = async (action: ActionCapability, args: unknown, extra: Extra) => {
    const startedAt = performance.now();
    const input = deps.actions.parseInput(action, args);
    const run = await deps.actions.start(action, input, start());
    return followRun(deps.runs, run, call(extra, startedAt), { principal, log });
  };
  const taken = new Set<string>();

  for (const action of deps.actions.visible(principal)) {
    taken.add(action.id);
    server.registerTool(
      action.id,
      {
        title: action.id.replace(/_/g, " "),
        description: action.description,
        inputSchema: deps.actions.inputSchema(action),
        outputSchema: EditorActionResultSchema,
        // The tool proposes edits; it changes nothing itself.
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      async (args, extra) => {
        try {
          return actionResult(await runAction(action, args, extra));
        } catch (err) {
          return toolError(err);
        }
      },
    );
  }

  const models = deps.catalog
    .list()
    .filter((c) => c.kind === "chat" && (!principal.models || principal.models.includes(c.id)));
  for (const model of models) {
    let name = chatToolName(model);
    if (taken.has(name)) name = `${name}_model`;
    taken.add(name);
    server.registerTool(
      name,
      {
        title: `chat with ${model.id}`,
        description: `Ask the ${model.id} model (${model.context}).${model.description ? ` ${model.description}` : ""}`,
        inputSchema: ChatToolInput,
        annotations: { readOnlyHint: true, openWorldHint: true },
      },
      async (args, extra) => {
        try {
          const startedAt = performance.now();
          const input = deps.commands.parse({
            model: model.id,
            messages: [
              ...(args.system ? [{ role: "system", content: args.system }] : []),
              { role: "user", content: args.prompt },
            ],
          });
          assertPromptWithinLimits(input.request.messages, deps.limits);
          const run = await deps.runs.start(input, start());
          const r = await followRun(deps.runs, run, call(extra, startedAt), { principal, log });
          return { content: [{ type: "text", text: r.text }] };
        } catch (err) {
          return toolError(err);
        }
      },
    );
  }
  return server;
}
