import type {
  ActionCapability,
  EditorActionInput,
  SubjectSpace,
} from "../../../contracts/index.js";
import { BadRequestError } from "../../errors.js";
import type { WorkKind } from "../admission/door.js";
import { buildActionCommand } from "../commands/action-command.js";
import { writtenCommand, type CommandWriter } from "../commands/command-writer.js";
import { runDelivery } from "../runs/run-spec.js";
import { actionNotFound, type EditorActions } from "./editor-actions.js";

/** An admitted editor action: which one, its validated input, and whether it is streamed. */
export interface ActionInput {
  action: ActionCapability;
  input: EditorActionInput;
  stream: boolean;
}

/** `stream` from a request body: absent (JSON) or a boolean. */
function streamFlag(body: unknown): boolean {
  const v = (body as { stream?: unknown } | null)?.stream;
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new BadRequestError("'stream' must be a boolean.", "stream");
  return v;
}

/** What an editor action needs to be admitted and written. */
export interface ActionWorkDeps {
  actions: EditorActions;
  subjects: SubjectSpace;
  writer: CommandWriter;
}

/**
 * The editor action `name` as work for the admission door (HTTP, MCP tools): the name is looked
 * up first, so a missing action and one the key may not run get the same 404 whatever the
 * input; then the input is validated (schema, size, selection) and runs as the action's
 * `editor_action` command.
 */
export function actionWork(
  deps: ActionWorkDeps,
  name: string,
): WorkKind<{ action: ActionCapability; raw: unknown }, ActionInput> {
  return {
    parse: (raw) => ({ action: deps.actions.find(name), raw }),
    capability: (p) => p.action,
    notFound: () => actionNotFound(name),
    validate: (p) => ({
      action: p.action,
      stream: streamFlag(p.raw),
      input: deps.actions.parseInput(p.action, p.raw),
    }),
    runSpec: ({ action, input }, opts) => ({
      capability: action,
      delivery: runDelivery({}),
      // The answer depends on the action and its input only: that is what an idempotency key pins.
      answerInputs: { action: action.id, input },
      write: async (ids, delivery) => {
        const command = buildActionCommand(deps.subjects, {
          action,
          input,
          delivery,
          userId: opts.origin?.userId,
          conversationId: opts.origin?.conversationId,
          ...ids,
        });
        command.traceId = opts.origin?.traceparent;
        const written = await deps.writer.writeCommand(action, command);
        return writtenCommand(command, written);
      },
    }),
  };
}
