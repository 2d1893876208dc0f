import { z } from "zod";
import {
  actionInputSchema,
  type ActionCapability,
  type EditorActionInfo,
  type EditorActionInput,
  type Position,
} from "../../../contracts/index.js";
import type { CapabilityCatalog } from "../../catalog.js";
import { notAfter, TextLines } from "../../editor/text-positions.js";
import { BadRequestError, NotFoundError, PayloadTooLargeError } from "../../errors.js";
import type { Principal } from "../../ports.js";
import { assertStorableText } from "../../request-text.js";
import { plainZodMessage } from "../../validation-message.js";
import { usable } from "../admission/access.js";

/** What the editor actions need. */
export interface EditorActionsDeps {
  catalog: CapabilityCatalog;
  limits: { maxPromptChars: number };
}

/** An action's input schema, as zod (to validate) and as JSON Schema (to publish). */
interface ActionSchema {
  zod: ReturnType<typeof actionInputSchema>;
  json: Record<string, unknown>;
}

/**
 * The editor actions use case, shared by every surface (HTTP, MCP): the actions a key may run
 * and their input validation (see {@link actionWork} for how one is admitted and run).
 */
export class EditorActions {
  private readonly schemas = new Map<string, ActionSchema>();

  constructor(private readonly deps: EditorActionsDeps) {
    for (const c of deps.catalog.list()) {
      if (c.kind !== "action") continue;
      const zod = actionInputSchema(c.requires);
      this.schemas.set(c.id, { zod, json: z.toJSONSchema(zod) as Record<string, unknown> });
    }
  }

  /** The actions the key may run (its `models` claim), in catalog order. */
  visible(p: Principal): ActionCapability[] {
    const actions = this.deps.catalog
      .list()
      .filter((c): c is ActionCapability => c.kind === "action");
    return usable(p, actions);
  }

  /** `GET /v1/editor/actions` entries. */
  list(p: Principal): EditorActionInfo[] {
    return this.visible(p).map((a) => ({
      name: a.id,
      description: a.description,
      input_schema: this.schema(a).json,
      context: a.context,
      output: a.output,
    }));
  }

  /** The action's input schema (zod), e.g. as an MCP tool's input. */
  inputSchema(a: ActionCapability): ActionSchema["zod"] {
    return this.schema(a).zod;
  }

  /** The action named `name`, or the 404 a disallowed one gets too ({@link actionNotFound}). */
  find(name: string): ActionCapability {
    const a = this.deps.catalog.findAction(name);
    if (!a) throw actionNotFound(name);
    return a;
  }

  /**
   * Validates an action's input: the schema (400 naming the field), characters Postgres cannot
   * store, the size limit (413), and a selection that lies inside the document.
   */
  parseInput(action: ActionCapability, raw: unknown): EditorActionInput {
    const parsed = this.schema(action).zod.safeParse(raw);
    if (!parsed.success) {
      const { message, param } = plainZodMessage(parsed.error);
      throw new BadRequestError(`Invalid input for '${action.id}': ${message}.`, param);
    }
    const input: EditorActionInput = parsed.data;
    assertStorableText(input, "input");
    const size = input.content.length + (input.instruction?.length ?? 0);
    if (size > this.deps.limits.maxPromptChars) {
      throw new PayloadTooLargeError(
        `The document and instruction have ${size} characters; the limit is ${this.deps.limits.maxPromptChars}.`,
        "content",
      );
    }
    if (input.selection)
      input.selection = checkSelection(new TextLines(input.content), input.selection);
    return input;
  }

  private schema(a: ActionCapability): ActionSchema {
    return this.schemas.get(a.id)!;
  }
}

/** A missing action and one the key may not run get the same answer. */
export function actionNotFound(name: string): NotFoundError {
  return new NotFoundError(
    `The editor action '${name.slice(0, 100)}' does not exist or you do not have access to it.`,
    "action_not_found",
    "name",
  );
}

/**
 * A selection must lie in the document and start first; an end one past its line (as Neovim's
 * line selections send it) is clamped to the line's end. Returns the selection as clamped; a 400
 * naming the position and saying how long its line is otherwise.
 */
function checkSelection(
  doc: TextLines,
  s: { start: Position; end: Position },
): { start: Position; end: Position } {
  const clamped = { start: s.start, end: s.end };
  for (const end of ["start", "end"] as const) {
    const p = s[end];
    const inside = doc.clamp(p);
    if (!inside) {
      const where =
        p.line < doc.lineCount
          ? `line ${p.line} has ${doc.line(p.line).length} characters`
          : `the document has ${doc.lineCount} lines (0 to ${doc.lineCount - 1})`;
      throw new BadRequestError(
        `selection.${end} (line ${p.line}, character ${p.character}) is outside the document: ` +
          `${where} (characters count UTF-16 code units).`,
        `selection.${end}`,
      );
    }
    clamped[end] = inside;
  }
  if (!notAfter(clamped.start, clamped.end)) {
    throw new BadRequestError("selection.start is after selection.end.", "selection");
  }
  return clamped;
}
