import { posix } from "node:path";
import type {
  ActionOutput,
  ChatCompletedPayload,
  ChatDeltaPayload,
  EditorActionPayload,
  Range,
} from "../../../contracts/index.js";
import { testFilePath } from "../../editor/test-file-path.js";
import { TextLines } from "../../editor/text-positions.js";
import type { HandlerContext } from "../handler.js";
import { countWords, streamWords } from "./words.js";

/** Line-comment prefixes by language (for the generated test file's header). */
const HASH_COMMENTS = new Set(["python", "ruby", "yaml", "shellscript", "toml", "perl", "r"]);

const lineRange = (a: Range) =>
  a.start.line === a.end.line
    ? `line ${a.start.line + 1}`
    : `lines ${a.start.line + 1}-${a.end.line + 1}`;

/** What echo answers for an action: its text, and the deltas carrying edits or diagnostics. */
function answer(command: EditorActionPayload): { text: string; extra: ChatDeltaPayload } {
  const { input } = command;
  const doc = new TextLines(input.content);
  const range = input.selection ?? doc.whole;
  const selected = doc.slice(range);
  const byOutput: Record<ActionOutput, () => { text: string; extra: ChatDeltaPayload }> = {
    text: () => ({
      text: `${command.action}: ${input.language} in ${input.path}, ${lineRange(range)}: ${selected}`,
      extra: {},
    }),
    // The selection unchanged: an edit whose effect is known without a model.
    edit_selection: () => ({
      text: `${command.action}: ${lineRange(range)} of ${input.path} kept as they are (echo).`,
      extra: { edits: [{ path: input.path, range, replacement: selected }] },
    }),
    test_file: () => {
      const path = testFilePath(input.path, input.language);
      const comment = HASH_COMMENTS.has(input.language) ? "#" : "//";
      const header = `${comment} Tests for ${posix.basename(input.path)} (echo)\n`;
      const start = { line: 0, character: 0 };
      return {
        text: `${command.action}: tests for ${input.path} in ${path} (echo).`,
        extra: {
          edits: [{ path, range: { start, end: start }, replacement: header + selected }],
        },
      };
    },
    // A warning on each line containing TODO, covering the word.
    diagnostics: () => {
      const diagnostics = [];
      for (let line = 0; line < doc.lineCount; line++) {
        const character = doc.line(line).indexOf("TODO");
        if (character < 0) continue;
        diagnostics.push({
          range: { start: { line, character }, end: { line, character: character + 4 } },
          severity: "warning" as const,
          message: "TODO left in the document",
          code: "todo",
        });
      }
      return {
        text: `${command.action}: ${diagnostics.length} problem(s) in ${input.path} (echo).`,
        extra: { diagnostics },
      };
    },
  };
  return byOutput[command.output]();
}

/**
 * Echo's answer to every editor action, deterministic so the whole path is testable without a
 * model: `text` describes the selection, `edit_selection` returns it unchanged as an edit,
 * `test_file` creates the language's test file holding it, `diagnostics` warns at each `TODO`.
 * The text streams word by word; edits and diagnostics follow in one delta.
 */
export async function echoAction(
  command: EditorActionPayload,
  ctx: HandlerContext,
  delayMs: number,
): Promise<ChatCompletedPayload> {
  const { text, extra } = answer(command);
  await streamWords(text, ctx, delayMs);
  if (extra.edits?.length || extra.diagnostics?.length) await ctx.emit(extra);
  const prompt = countWords(command.input.content) + countWords(command.input.instruction ?? "");
  const completion = countWords(text);
  return {
    message: { role: "assistant", content: text },
    finish_reason: "stop",
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    },
    edits: extra.edits ?? [],
    diagnostics: extra.diagnostics ?? [],
  };
}
