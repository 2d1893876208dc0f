import type * as acp from "@agentclientprotocol/sdk";
import type { Diagnostic, TextEdit } from "../../contracts/index.js";
import { TextLines } from "../editor/text-positions.js";

/** One file an action changes: its text before (null: a new file) and after. */
export interface FileChange {
  path: string;
  oldText: string | null;
  newText: string;
  /** 1-based line of the first change (where "follow the agent" goes). */
  line: number;
}

/** The edits of an action grouped by file, in the order their files first appear. */
export function editsByFile(edits: readonly TextEdit[]): Map<string, TextEdit[]> {
  const out = new Map<string, TextEdit[]>();
  for (const e of edits) out.set(e.path, [...(out.get(e.path) ?? []), e]);
  return out;
}

/**
 * `text` with `edits` applied (LSP semantics: ranges refer to the original text, applied from
 * the last to the first so earlier offsets hold).
 */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const doc = new TextLines(text);
  const spans = edits
    .map((e) => ({ from: doc.offsetAt(e.range.start), to: doc.offsetAt(e.range.end), e }))
    .sort((a, b) => b.from - a.from || b.to - a.to);
  let out = text;
  for (const s of spans) out = out.slice(0, s.from) + s.e.replacement + out.slice(s.to);
  return out;
}

/** A file's change from its edits and its text before (null when it does not exist yet). */
export function fileChange(
  path: string,
  edits: readonly TextEdit[],
  oldText: string | null,
): FileChange {
  const first = Math.min(...edits.map((e) => e.range.start.line));
  return { path, oldText, newText: applyEdits(oldText ?? "", edits), line: first + 1 };
}

/** The `tool_call` that shows a change for review: kind `edit`, a diff, where it lands. */
export function editToolCall(
  toolCallId: string,
  title: string,
  change: FileChange,
  status: acp.ToolCallStatus,
): acp.SessionUpdate {
  return {
    sessionUpdate: "tool_call",
    toolCallId,
    title,
    kind: "edit",
    status,
    content: [
      { type: "diff", path: change.path, oldText: change.oldText, newText: change.newText },
    ],
    locations: [{ path: change.path, line: change.line }],
    rawInput: { path: change.path },
  };
}

/** Diagnostics as one completed tool call: a `line: severity: message` list and locations. */
export function diagnosticsToolCall(
  toolCallId: string,
  title: string,
  path: string,
  diagnostics: readonly Diagnostic[],
): acp.SessionUpdate {
  const lines = diagnostics.map(
    (d) => `${d.range.start.line + 1}: ${d.severity}: ${d.message}${d.code ? ` (${d.code})` : ""}`,
  );
  return {
    sessionUpdate: "tool_call",
    toolCallId,
    title,
    kind: "search",
    status: "completed",
    content: [
      {
        type: "content",
        content: { type: "text", text: lines.length ? lines.join("\n") : "No problems found." },
      },
    ],
    locations: diagnostics.map((d) => ({ path, line: d.range.start.line + 1 })),
  };
}
