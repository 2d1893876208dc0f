import { randomUUID } from "node:crypto";
import { basename } from "node:path";
import type * as acp from "@agentclientprotocol/sdk";
import type { EditorActionInput, Range } from "../../contracts/index.js";
import { TextLines } from "../editor/text-positions.js";
import {
  diagnosticsToolCall,
  editsByFile,
  editToolCall,
  fileChange,
  type FileChange,
} from "./action-tool-calls.js";
import { languageOf, type LineSpan } from "./file-mentions.js";
import type { Attachment } from "./prompt-content.js";
import type { TurnContext } from "./turn-context.js";

const PERMISSION_OPTIONS: acp.PermissionOption[] = [
  { optionId: "allow_once", name: "Apply", kind: "allow_once" },
  { optionId: "allow_always", name: "Always apply in this session", kind: "allow_always" },
  { optionId: "reject_once", name: "Reject", kind: "reject_once" },
];

/** A selection's 1-based lines as a range of the text (clamped to it). */
function selectionOf(content: string, lines: LineSpan): Range {
  const doc = new TextLines(content);
  const last = Math.min(lines.end, doc.lineCount) - 1;
  const first = Math.min(lines.start - 1, last);
  return {
    start: { line: first, character: 0 },
    end: { line: last, character: doc.line(last).length },
  };
}

/** The action's input for one attached file: the whole file, and its selection if one. */
async function inputOf(
  cx: TurnContext,
  a: Attachment & { mention: NonNullable<Attachment["mention"]> },
  instruction: string,
): Promise<EditorActionInput> {
  const { path, lines } = a.mention;
  const input: EditorActionInput = { path, language: languageOf(path), content: "" };
  if (lines && (cx.canRead || a.text === undefined)) {
    // An embedded selection holds only the selected lines: the action needs the whole file.
    input.content = await cx.readFile(path);
    input.selection = selectionOf(input.content, lines);
  } else {
    input.content = a.text ?? (await cx.readFile(path));
  }
  if (instruction) input.instruction = instruction;
  return input;
}

/**
 * Offers one change for review: an `edit` tool call with its diff, then
 * `session/request_permission`; only an allow writes it, through `fs/write_text_file` (so the
 * edit lands in Zed's buffer and review). Returns false when the user cancelled.
 */
async function reviewChange(cx: TurnContext, title: string, change: FileChange): Promise<boolean> {
  const toolCallId = `edit-${randomUUID()}`;
  await cx.send(editToolCall(toolCallId, title, change, "pending"));
  const done = (status: acp.ToolCallStatus, note?: string) =>
    cx.send({
      sessionUpdate: "tool_call_update",
      toolCallId,
      status,
      ...(note
        ? {
            content: [
              {
                type: "diff",
                path: change.path,
                oldText: change.oldText,
                newText: change.newText,
              },
              { type: "content", content: { type: "text", text: note } },
            ],
          }
        : {}),
    });
  if (!cx.canWrite) {
    await done("failed", "Not applied: the client does not offer fs/write_text_file.");
    return true;
  }
  if (!cx.session.allowEdits) {
    const answer = await cx.client.request(
      "session/request_permission",
      {
        sessionId: cx.session.id,
        toolCall: { toolCallId, title, kind: "edit", status: "pending" },
        options: PERMISSION_OPTIONS,
      },
      { cancellationSignal: cx.turn.controller.signal, stopWaitingOnCancel: true },
    );
    if (answer.outcome.outcome === "cancelled") return false;
    const chosen = answer.outcome.optionId;
    if (chosen === "allow_always") cx.session.allowEdits = true;
    if (chosen !== "allow_once" && chosen !== "allow_always") {
      await done("failed", "Rejected: the file was left as it is.");
      return true;
    }
  }
  if (cx.turn.isCancelled) return false;
  await done("in_progress");
  await cx.client.request("fs/write_text_file", {
    sessionId: cx.session.id,
    path: change.path,
    content: change.newText,
  });
  await done("completed");
  return true;
}

/**
 * `/name instruction` with files attached: runs the editor action on each file (or selection)
 * through the gateway. Its text streams as message chunks; each file it edits is offered for
 * review ({@link reviewChange}); its diagnostics become one tool call with their lines.
 */
export async function actionTurn(
  cx: TurnContext,
  name: string,
  instruction: string,
  attachments: readonly Attachment[],
): Promise<acp.StopReason> {
  const files = attachments.filter(
    (a): a is Attachment & { mention: NonNullable<Attachment["mention"]> } => a.mention !== null,
  );
  if (files.length === 0) {
    await cx.send({
      sessionUpdate: "agent_message_chunk",
      content: {
        type: "text",
        text: `/${name} runs on a file: mention one with @ (or a selection) and try again.`,
      },
    });
    return "end_turn";
  }
  for (const file of files) {
    const input = await inputOf(cx, file, instruction);
    const result = await cx.gateway.runAction(name, input, {
      conversationId: cx.session.id,
      signal: cx.turn.controller.signal,
      onText: (text) =>
        void cx.send({ sessionUpdate: "agent_message_chunk", content: { type: "text", text } }),
    });
    cx.session.history.push(
      { role: "user", content: `/${name} ${instruction}`.trim() },
      { role: "assistant", content: result.text },
    );
    for (const [path, edits] of editsByFile(result.edits)) {
      const oldText = path === input.path ? input.content : await cx.tryReadFile(path);
      const change = fileChange(path, edits, oldText);
      if (!(await reviewChange(cx, `${name}: ${basename(path)}`, change))) return "cancelled";
    }
    if (result.diagnostics.length > 0) {
      const title = `${name}: ${result.diagnostics.length} problem(s) in ${basename(input.path)}`;
      await cx.send(
        diagnosticsToolCall(`diagnostics-${randomUUID()}`, title, input.path, result.diagnostics),
      );
    }
    if (cx.turn.isCancelled) return "cancelled";
  }
  return "end_turn";
}
