import {
  PLACEHOLDER_PATTERN,
  type ActionOutput,
  type EditorActionInput,
  type PromptPlaceholder,
} from "../../contracts/index.js";
import { TextLines } from "./text-positions.js";

/** Lines of surrounding code given with a selection. */
const CONTEXT_LINES = 20;

/**
 * The prompt an action without its own template gets, by what its answer becomes. Answers that
 * become edits must hold one fenced code block; diagnostics come one per line.
 */
export const DEFAULT_PROMPTS: Record<ActionOutput, string> = {
  text: `Explain the following {{language}} code from {{path}} to a developer reading it.
{{instruction}}

Code before it:
\`\`\`{{language}}
{{before}}
\`\`\`

The code to explain:
\`\`\`{{language}}
{{selection}}
\`\`\`

Code after it:
\`\`\`{{language}}
{{after}}
\`\`\``,
  edit_selection: `Rewrite the selected {{language}} code from {{path}}, keeping its behaviour.
Instruction: {{instruction}}

Code before the selection (context, do not repeat it):
\`\`\`{{language}}
{{before}}
\`\`\`

The selection to rewrite:
\`\`\`{{language}}
{{selection}}
\`\`\`

Code after the selection (context, do not repeat it):
\`\`\`{{language}}
{{after}}
\`\`\`

Answer with the rewritten selection in exactly one fenced code block, then at most two sentences.`,
  test_file: `Write unit tests for the following {{language}} code from {{path}}, using the usual test
framework of the language. {{instruction}}

\`\`\`{{language}}
{{selection}}
\`\`\`

Answer with the whole test file in exactly one fenced code block, then at most two sentences.`,
  diagnostics: `Review this {{language}} specification ({{path}}) for problems: TODOs, gaps,
contradictions, ambiguous requirements. {{instruction}}

Answer one problem per line as \`<line number>: <error|warning|information|hint>: <message>\`,
with line numbers counted from 1 as shown, and nothing else; answer \`OK\` if there are none.

{{numbered}}`,
};

/** The values of every placeholder for one input. */
export function promptValues(input: EditorActionInput): Record<PromptPlaceholder, string> {
  const lines = new TextLines(input.content);
  const range = input.selection ?? lines.whole;
  const { before, after } = input.selection
    ? lines.around(range, CONTEXT_LINES)
    : { before: "", after: "" };
  return {
    language: input.language,
    path: input.path,
    selection: lines.slice(range),
    before,
    after,
    content: input.content,
    numbered: numbered(lines),
    instruction: input.instruction ?? "",
  };
}

/** The text with 1-based line numbers, so a model can name lines. */
function numbered(lines: TextLines): string {
  return Array.from({ length: lines.lineCount }, (_, i) => `${i + 1}: ${lines.line(i)}`).join("\n");
}

/** A line that holds one placeholder and nothing else, but maybe a label before it (`Instruction:`). */
const PLACEHOLDER_LINE = /^[ \t]*(?:[^\n{}]*:[ \t]*)?\{\{\s*([A-Za-z0-9_]+)\s*\}\}[ \t]*$/;

/**
 * Replaces each `{{placeholder}}`; unknown ones (refused at boot) are left as they are. A line that
 * holds only a placeholder, maybe after a label, is left out when the placeholder is empty: no
 * `Instruction:` line without an instruction.
 */
export function renderPrompt(template: string, values: Record<PromptPlaceholder, string>): string {
  return template
    .split("\n")
    .filter((line) => {
      const name = PLACEHOLDER_LINE.exec(line)?.[1];
      return !(
        name !== undefined &&
        Object.hasOwn(values, name) &&
        values[name as PromptPlaceholder] === ""
      );
    })
    .join("\n")
    .replace(PLACEHOLDER_PATTERN, (whole, name: string) =>
      Object.hasOwn(values, name) ? values[name as PromptPlaceholder] : whole,
    );
}
