import type {
  ActionOutput,
  ChatCommandPayload,
  ChatCompletedPayload,
  ChatDeltaPayload,
  EditorActionPayload,
  Range,
} from "../../contracts/index.js";
import { diagnosticLines, firstCodeBlock } from "../../src/editor/answers.js";
import { DEFAULT_PROMPTS, promptValues, renderPrompt } from "../../src/editor/prompts.js";
import { testFilePath } from "../../src/editor/test-file-path.js";
import { TextLines } from "../../src/editor/text-positions.js";
import type { HandlerContext } from "../../src/worker/handler.js";

const SYSTEM_PROMPT =
  "You are a careful senior engineer working inside the user's editor. Be precise and brief.";

/** How much of an answer without a code block its diagnostic quotes. */
const QUOTED_CHARS = 300;

/**
 * An answer that should have held a code block and did not: nothing is changed, and a warning
 * on the selection (the document's start for a new file) says so and quotes the answer, so the
 * editor shows why instead of nothing.
 */
function noCodeBlock(cmd: EditorActionPayload, text: string, range: Range): ChatDeltaPayload {
  const answer = text.trim().replace(/\s+/g, " ");
  const quoted = answer.length > QUOTED_CHARS ? `${answer.slice(0, QUOTED_CHARS)}…` : answer;
  return {
    diagnostics: [
      {
        range,
        severity: "warning",
        code: "no_code_block",
        message: `${cmd.action}: the model's answer has no code block, so nothing was changed. It answered: ${quoted || "(nothing)"}`,
      },
    ],
  };
}

/** The edits or diagnostics an answer becomes, by the action's output (data, not code paths). */
const RESULTS: Record<ActionOutput, (cmd: EditorActionPayload, text: string) => ChatDeltaPayload> =
  {
    text: () => ({}),
    edit_selection: (cmd, text) => {
      const code = firstCodeBlock(text);
      const range = cmd.input.selection ?? new TextLines(cmd.input.content).whole;
      return code === null
        ? noCodeBlock(cmd, text, range)
        : { edits: [{ path: cmd.input.path, range, replacement: code }] };
    },
    test_file: (cmd, text) => {
      const code = firstCodeBlock(text);
      const start = { line: 0, character: 0 };
      const path = testFilePath(cmd.input.path, cmd.input.language);
      return code === null
        ? noCodeBlock(cmd, text, cmd.input.selection ?? { start, end: start })
        : { edits: [{ path, range: { start, end: start }, replacement: code }] };
    },
    diagnostics: (cmd, text) => ({
      diagnostics: diagnosticLines(text, new TextLines(cmd.input.content)),
    }),
  };

/**
 * An editor action through an OpenAI-compatible model: renders the action's prompt (or its
 * output's default) with the document, selection, surrounding code, language and instruction,
 * runs it as a chat (`chat`: the handler's own chat path, which streams the answer's text), then
 * sends what the answer becomes (an edit from its code block, diagnostics from its problem lines)
 * as one more delta.
 */
export async function upstreamAction(
  cmd: EditorActionPayload,
  ctx: HandlerContext,
  chat: (command: ChatCommandPayload) => Promise<ChatCompletedPayload>,
): Promise<ChatCompletedPayload> {
  const prompt = renderPrompt(cmd.prompt ?? DEFAULT_PROMPTS[cmd.output], promptValues(cmd.input));
  const completed = await chat({
    stream_id: cmd.stream_id,
    model: cmd.model,
    handler: cmd.handler,
    ...(cmd.upstream_model ? { upstream_model: cmd.upstream_model } : {}),
    messages: [
      { role: "system", content: SYSTEM_PROMPT },
      { role: "user", content: prompt },
    ],
    params: {},
  });
  const result = RESULTS[cmd.output](cmd, completed.message.content ?? "");
  if (result.edits?.length || result.diagnostics?.length) await ctx.emit(result);
  return { ...completed, edits: result.edits ?? [], diagnostics: result.diagnostics ?? [] };
}
