import type * as acp from "@agentclientprotocol/sdk";
import { basename } from "node:path";
import { pathToFileURL } from "node:url";
import type { ChatMessage, ConversationRun } from "../../contracts/index.js";
import { diagnosticsToolCall, editsByFile, editToolCall, fileChange } from "./action-tool-calls.js";
import { splitUserMessage } from "./context-envelope.js";

/** A conversation rebuilt: the updates that replay it, and the chat history it leaves. */
export interface Replay {
  updates: acp.SessionUpdate[];
  history: ChatMessage[];
}

const text = (t: string): acp.ContentBlock => ({ type: "text", text: t });
const link = (uri: string): acp.ContentBlock => ({
  type: "resource_link",
  uri,
  name: basename(uri.split(/[?#]/)[0]!) || uri,
});
const chunk = (
  kind: "user_message_chunk" | "agent_message_chunk" | "agent_thought_chunk",
  content: acp.ContentBlock,
): acp.SessionUpdate => ({ sessionUpdate: kind, content });

/** The selection of an action's input as Zed names it (`#L<a>:<b>`, 1-based). */
function inputUri(
  path: string,
  sel: { start: { line: number }; end: { line: number } } | undefined,
) {
  const uri = pathToFileURL(path).href;
  return sel ? `${uri}#L${sel.start.line + 1}:${sel.end.line + 1}` : uri;
}

/**
 * Replays a conversation's runs in order, as a loaded session shows them: each chat turn as
 * what the user typed (attachments as links) and the answer (reasoning as thoughts); each
 * action as its command, its answer, and its edits as `edit` tool calls with their diffs
 * (old text from the action's input; a file the action created has none) and diagnostics.
 * `partial` holds the answer so far of runs that have no stored outcome (by run id).
 */
export function replayRuns(
  runs: readonly ConversationRun[],
  partial: ReadonlyMap<string, string> = new Map(),
): Replay {
  const updates: acp.SessionUpdate[] = [];
  const history: ChatMessage[] = [];
  for (const run of runs) {
    const answer = run.result?.message.content ?? partial.get(run.id) ?? "";
    const note =
      run.status === "failed" || run.status === "cancelled"
        ? `\n\n(${run.status}${run.error ? `: ${run.error.message}` : ""})`
        : "";
    if (run.request.kind === "chat") {
      const { typed, refs } = splitUserMessage(run.request.message);
      if (typed) updates.push(chunk("user_message_chunk", text(typed)));
      for (const ref of refs) updates.push(chunk("user_message_chunk", link(ref)));
      const reasoning = run.result?.message.reasoning_content;
      if (reasoning) updates.push(chunk("agent_thought_chunk", text(reasoning)));
      if (answer || note) updates.push(chunk("agent_message_chunk", text(answer + note)));
      history.push(run.request.message, { role: "assistant", content: answer });
      continue;
    }
    const { action, input } = run.request;
    const typed = `/${action}${input.instruction ? ` ${input.instruction}` : ""}`;
    updates.push(chunk("user_message_chunk", text(typed)));
    updates.push(chunk("user_message_chunk", link(inputUri(input.path, input.selection))));
    if (answer || note) updates.push(chunk("agent_message_chunk", text(answer + note)));
    let n = 0;
    for (const [path, edits] of editsByFile(run.result?.edits ?? [])) {
      const change = fileChange(path, edits, path === input.path ? input.content : null);
      const title = `${action}: ${basename(path)}`;
      updates.push(editToolCall(`${run.stream_id}-edit-${n++}`, title, change, "completed"));
    }
    const d = run.result?.diagnostics ?? [];
    if (d.length > 0) {
      const title = `${action}: ${d.length} problem(s) in ${basename(input.path)}`;
      updates.push(diagnosticsToolCall(`${run.stream_id}-diagnostics`, title, input.path, d));
    }
    history.push({ role: "user", content: typed }, { role: "assistant", content: answer });
  }
  return { updates, history };
}
