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
import { usable } from "../admission/access.js";
import type { AdmissionDoor, WorkKind } from "../admission/door.js";
import type { ChatInput } from "../commands/chat-request.js";
import { actionWork, type ActionWorkDeps } from "../editor/action-work.js";
import type { StartOptions } from "../runs/run-spec.js";
import { followRun, type ToolCall } from "./tool-run.js";

/** What the MCP tools need: the same use cases and the same door as the HTTP routes. */
export interface McpToolDeps {
  catalog: CapabilityCatalog;
  /** Editor actions (their schemas, and how one is admitted). */
  work: ActionWorkDeps;
  chat: WorkKind<ChatInput, ChatInput>;
  door: AdmissionDoor;
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
  // Each call is a request of its own, admitted (rate, stream slot) like an HTTP one.
  const start = (): Omit<StartOptions, "releaseSlot"> => ({
    principal,
    correlationId: randomUUID(),
    log,
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
    const { run } = await deps.door.admit(actionWork(deps.work, action.id), args, start());
    return followRun(run, call(extra, startedAt), log);
  };
  const taken = new Set<string>();
  const actions = deps.work.actions;

  for (const action of actions.visible(principal)) {
    taken.add(action.id);
    server.registerTool(
      action.id,
      {
        title: action.id.replace(/_/g, " "),
        description: action.description,
        inputSchema: actions.inputSchema(action),
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

  const models = usable(principal, deps.catalog.list()).filter((c) => c.kind === "chat");
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
          const body = {
            model: model.id,
            messages: [
              ...(args.system ? [{ role: "system", content: args.system }] : []),
              { role: "user", content: args.prompt },
            ],
          };
          const { run } = await deps.door.admit(deps.chat, body, start());
          const r = await followRun(run, call(extra, startedAt), log);
          return { content: [{ type: "text", text: r.text }] };
        } catch (err) {
          return toolError(err);
        }
      },
    );
  }
  return server;
}
