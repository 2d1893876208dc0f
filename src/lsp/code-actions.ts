import {
  CodeActionKind,
  type CodeAction,
  type CodeActionParams,
  type Range,
} from "vscode-languageserver/node";
import type { ActionOutput, EditorActionInfo } from "../../contracts/index.js";

/** The command every SEA code action runs (its argument: {@link RunActionArgs}). */
export const RUN_ACTION_COMMAND = "sea.runAction";

/** What a SEA code action carries to its command. */
export interface RunActionArgs {
  action: string;
  uri: string;
  range: Range;
}

/** The code action kind of an action, by what it produces (data, not code). */
const KINDS: Record<ActionOutput, string> = {
  text: CodeActionKind.Source,
  edit_selection: CodeActionKind.RefactorRewrite,
  test_file: CodeActionKind.Source,
  diagnostics: CodeActionKind.Source,
};

const isEmpty = (r: Range) => r.start.line === r.end.line && r.start.character === r.end.character;

const required = (a: EditorActionInfo) =>
  Array.isArray(a.input_schema.required) ? (a.input_schema.required as string[]) : [];

/**
 * One code action per SEA action that can run on the request's range: an action needing a
 * selection only on a non-empty one, none needing an instruction (a code action cannot ask for
 * text), and only the kinds the client asked for.
 */
export function codeActionsFor(
  actions: readonly EditorActionInfo[],
  params: CodeActionParams,
): CodeAction[] {
  const empty = isEmpty(params.range);
  const only = params.context.only;
  const out: CodeAction[] = [];
  for (const a of actions) {
    const needs = required(a);
    if (needs.includes("instruction") || (empty && needs.includes("selection"))) continue;
    const kind = KINDS[a.output];
    if (only && !only.some((k) => kind === k || kind.startsWith(`${k}.`))) continue;
    const title = `SEA: ${a.name.replace(/_/g, " ")} ${empty ? "(document)" : "(selection)"}`;
    const args: RunActionArgs = {
      action: a.name,
      uri: params.textDocument.uri,
      range: params.range,
    };
    out.push({ title, kind, command: { title, command: RUN_ACTION_COMMAND, arguments: [args] } });
  }
  return out;
}
