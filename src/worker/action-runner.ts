import type {
  ChatCompletedPayload,
  Diagnostic,
  EditorActionPayload,
  TextEdit,
} from "../../contracts/index.js";
import { PoisonMessageError, type ChatHandler, type HandlerContext } from "./handler.js";

/**
 * Runs an editor action with its handler. The completed payload always lists every edit and
 * diagnostic: the handler's own lists when it gives them, else those its deltas carried (a
 * handler service may stream them and end without repeating them).
 */
export async function runAction(
  handler: ChatHandler,
  command: EditorActionPayload,
  ctx: HandlerContext,
): Promise<ChatCompletedPayload> {
  if (!handler.handleAction) {
    throw new PoisonMessageError(`handler '${handler.name}' does not run editor actions`);
  }
  const edits: TextEdit[] = [];
  const diagnostics: Diagnostic[] = [];
  const completed = await handler.handleAction(command, {
    ...ctx,
    emit: (delta) => {
      if (delta.edits) edits.push(...delta.edits);
      if (delta.diagnostics) diagnostics.push(...delta.diagnostics);
      return ctx.emit(delta);
    },
  });
  return {
    ...completed,
    edits: completed.edits ?? edits,
    diagnostics: completed.diagnostics ?? diagnostics,
  };
}
