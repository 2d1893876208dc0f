import type { ActionCapability, ContextName } from "../../contracts/index.js";

/** A built-in action, before the handler that runs it is chosen. */
type BuiltinAction = Omit<ActionCapability, "handler" | "upstream_model">;

const action = (a: Omit<BuiltinAction, "kind" | "command" | "command_version">): BuiltinAction => ({
  kind: "action",
  command: "editor_action",
  command_version: 1,
  ...a,
});

/**
 * The actions every catalog has unless its file removes or replaces them. Their prompts are the
 * output's default (see `src/editor/default-prompts.ts`).
 */
export const BUILTIN_ACTIONS: readonly BuiltinAction[] = [
  action({
    id: "explain",
    context: "sea",
    description: "Explain what the selected code (or the whole document) does.",
    output: "text",
    requires: [],
  }),
  action({
    id: "refactor",
    context: "sea",
    description:
      "Rewrite the selected code (or the whole document) following the instruction, keeping its behaviour.",
    output: "edit_selection",
    requires: [],
  }),
  action({
    id: "generate_tests",
    context: "vibespro",
    description:
      "Write unit tests for the selected code (or the whole document) in a new test file next to it.",
    output: "test_file",
    requires: [],
  }),
  action({
    id: "validate_spec",
    context: "sea",
    description:
      "Check a specification document and report its problems as diagnostics (TODOs, gaps, contradictions).",
    output: "diagnostics",
    requires: [],
  }),
];

/** The built-in actions, each run by `handlerOf(context)`. */
export function builtinActions(
  handlerOf: (ctx: ContextName) => { handler: string; upstream_model?: string },
): ActionCapability[] {
  return BUILTIN_ACTIONS.map((a) => ({ ...a, ...handlerOf(a.context) }));
}
