import { z } from "zod";
import { ChatDeliverySchema, UsageSchema } from "./chat.js";
import { DiagnosticSchema, RangeSchema, TextEditSchema } from "./text-edits.js";

/**
 * Editor actions: capabilities an editor runs on a document (explain, refactor, generate tests,
 * validate a spec). A request becomes an `editor_action` command; its results travel on the
 * stream's result subject as the chat results do, with edits and diagnostics in the deltas.
 *
 * Glossary:
 * - action: a catalog capability of kind `action`; its id is the action's name.
 * - output: what the handler makes of the answer: plain `text`, an edit replacing the selection
 *   (`edit_selection`), an edit creating a test file (`test_file`), or `diagnostics`.
 * - prompt template: text with `{{placeholder}}`s that model-backed handlers render.
 */

/** What a handler makes of an action's answer (see the glossary). */
export const ACTION_OUTPUTS = ["text", "edit_selection", "test_file", "diagnostics"] as const;
export type ActionOutput = (typeof ACTION_OUTPUTS)[number];

/** Optional input fields an action may require. */
export const ACTION_INPUT_OPTIONALS = ["selection", "instruction"] as const;
export type ActionInputOptional = (typeof ACTION_INPUT_OPTIONALS)[number];

/**
 * The placeholders a prompt template may use: the document's `language` and `path`, the
 * `selection`'s text (the whole document without one), up to 20 lines `before` and `after` it,
 * the whole `content`, the same `numbered` with 1-based line numbers (`12: text`), and the
 * user's `instruction` (empty without one).
 */
export const PROMPT_PLACEHOLDERS = [
  "language",
  "path",
  "selection",
  "before",
  "after",
  "content",
  "numbered",
  "instruction",
] as const;
export type PromptPlaceholder = (typeof PROMPT_PLACEHOLDERS)[number];

/** Matches one `{{name}}` placeholder (spaces inside the braces allowed). */
export const PLACEHOLDER_PATTERN = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

const SelectionSchema = RangeSchema.describe(
  "The selected range: 0-based lines, characters in UTF-16 code units (LSP positions).",
);
const InstructionSchema = z
  .string()
  .max(8000)
  .describe("What the user wants, in their words (e.g. 'extract a function').");

/** The editor's input to an action: the document, and optionally a selection and instruction. */
export const EditorActionInputSchema = z.object({
  path: z.string().min(1).max(4096).describe("The document's path (as the editor names it)."),
  language: z
    .string()
    .min(1)
    .max(64)
    .describe("The document's language id, as LSP names it (typescript, python, yaml, …)."),
  content: z.string().describe("The whole text of the document."),
  selection: SelectionSchema.optional(),
  instruction: InstructionSchema.optional(),
});
export type EditorActionInput = z.infer<typeof EditorActionInputSchema>;

/** The input schema of an action that requires some of the optional fields. */
export function actionInputSchema(requires: readonly ActionInputOptional[]) {
  return EditorActionInputSchema.extend({
    selection: requires.includes("selection") ? SelectionSchema : SelectionSchema.optional(),
    instruction: requires.includes("instruction")
      ? InstructionSchema.min(1)
      : InstructionSchema.optional(),
  });
}

/** Payload of `<context>.command.editor_action.v1`. */
export const EditorActionPayloadSchema = z.object({
  stream_id: z.string().min(1),
  /** The action's capability id (the stream directory finds a stream's capability by it). */
  model: z.string().min(1),
  handler: z.string().min(1),
  upstream_model: z.string().min(1).optional(),
  /** The action's name (equal to `model`; named for handlers). */
  action: z.string().min(1),
  output: z.enum(ACTION_OUTPUTS),
  input: EditorActionInputSchema,
  /** The action's prompt template, for model-backed handlers (see {@link PROMPT_PLACEHOLDERS}). */
  prompt: z.string().optional(),
  /** Who and which conversation, as the editor reports them (like a chat command's). */
  user: z.string().optional(),
  conversation_id: z.string().optional(),
  delivery: ChatDeliverySchema.optional(),
});
export type EditorActionPayload = z.infer<typeof EditorActionPayloadSchema>;

/**
 * An action's whole result: `POST /v1/editor/actions/{name}` without streaming, the `done` event of
 * a streamed one, and an MCP tool's structured content.
 */
export const EditorActionResultSchema = z.object({
  text: z.string(),
  edits: z.array(TextEditSchema),
  diagnostics: z.array(DiagnosticSchema),
  usage: UsageSchema,
});
export type EditorActionResult = z.infer<typeof EditorActionResultSchema>;

/** One entry of `GET /v1/editor/actions`. */
export interface EditorActionInfo {
  name: string;
  description: string;
  /** JSON Schema of the action's input (generated from {@link actionInputSchema}). */
  input_schema: Record<string, unknown>;
  context: string;
  output: ActionOutput;
}
