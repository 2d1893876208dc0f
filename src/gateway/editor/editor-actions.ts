import { z } from "zod";
import {
  actionInputSchema,
  type ActionCapability,
  type EditorActionInfo,
  type EditorActionInput,
  type Position,
  type SubjectSpace,
} from "../../../contracts/index.js";
import type { CapabilityCatalog } from "../../catalog.js";
import { notAfter, TextLines } from "../../editor/text-positions.js";
import { BadRequestError, NotFoundError, PayloadTooLargeError } from "../../errors.js";
import type { Principal } from "../../ports.js";
import { plainZodMessage } from "../../validation-message.js";
import { containsNul, type ChatCommands } from "../chat-commands.js";
import type { ChatRun } from "../runs/chat-run.js";
import { runDelivery, type ChatRuns, type StartOptions } from "../runs/chat-runs.js";
import { buildActionCommand } from "./action-command.js";

/** What the editor actions need. */
export interface EditorActionsDeps {
  catalog: CapabilityCatalog;
  subjects: SubjectSpace;
  commands: ChatCommands;
  runs: ChatRuns;
  limits: { maxPromptChars: number };
}

/** An action's input schema, as zod (to validate) and as JSON Schema (to publish). */
interface ActionSchema {
  zod: ReturnType<typeof actionInputSchema>;
  json: Record<string, unknown>;
}

/**
 * The editor actions use case, shared by every surface (HTTP, MCP): the actions a key may run,
 * their input validation, and starting one as a run of its `editor_action` command.
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
    return this.deps.catalog
      .list()
      .filter((c): c is ActionCapability => c.kind === "action")
      .filter((c) => !p.models || p.models.includes(c.id));
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

  /** One action the key may run; a missing one and a disallowed one get the same 404. */
  find(p: Principal, name: string): ActionCapability {
    const a = this.deps.catalog.findAction(name);
    if (!a || (p.models && !p.models.includes(name))) {
      throw new NotFoundError(
        `The editor action '${name.slice(0, 100)}' does not exist or you do not have access to it.`,
        "action_not_found",
        "name",
      );
    }
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
    if (containsNul(input)) {
      throw new BadRequestError(
        "The input contains a NUL character (U+0000), which is not supported.",
        null,
        "unsupported_character",
      );
    }
    const size = input.content.length + (input.instruction?.length ?? 0);
    if (size > this.deps.limits.maxPromptChars) {
      throw new PayloadTooLargeError(
        `The document and instruction have ${size} characters; the limit is ${this.deps.limits.maxPromptChars}.`,
        "content",
      );
    }
    if (input.selection) checkSelection(new TextLines(input.content), input.selection);
    return input;
  }

  /** Starts an action: its results are listened to, then its command is written (see ChatRuns). */
  start(action: ActionCapability, input: EditorActionInput, opts: StartOptions): Promise<ChatRun> {
    const { subjects, commands, runs } = this.deps;
    return runs.startRun(
      {
        capability: action,
        delivery: runDelivery({}),
        // The answer depends on the action and its input only: that is what an idempotency key pins.
        answerInputs: { action: action.id, input },
        write: async (ids, delivery) => {
          const command = buildActionCommand(subjects, {
            action,
            input,
            delivery,
            userId: opts.origin?.userId,
            conversationId: opts.origin?.conversationId,
            ...ids,
          });
          command.traceId = opts.origin?.traceparent;
          const written = await commands.writeCommand(action, command);
          return { commandId: command.envelope.event_id, written };
        },
      },
      opts,
    );
  }

  private schema(a: ActionCapability): ActionSchema {
    return this.schemas.get(a.id)!;
  }
}

/** A selection must lie in the document, start first (400 naming the position otherwise). */
function checkSelection(doc: TextLines, s: { start: Position; end: Position }): void {
  for (const end of ["start", "end"] as const) {
    const p = s[end];
    if (!doc.contains(p)) {
      throw new BadRequestError(
        `selection.${end} (line ${p.line}, character ${p.character}) is outside the document ` +
          `(${doc.lineCount} lines; characters count UTF-16 code units).`,
        `selection.${end}`,
      );
    }
  }
  if (!notAfter(s.start, s.end)) {
    throw new BadRequestError("selection.start is after selection.end.", "selection");
  }
}
