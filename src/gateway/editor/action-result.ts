import type {
  ChatCompletedPayload,
  ChatDeltaPayload,
  Diagnostic,
  EditorActionResult,
  TextEdit,
  Usage,
} from "../../../contracts/index.js";

/** The body of a collected action (`POST /v1/editor/actions/{name}`) and of its `done` event. */
export interface EditorActionResponse extends EditorActionResult {
  /** The stream id (resume with `GET /v1/editor/streams/{id}/events`). */
  id: string;
  object: "editor.action.result";
  action: string;
}

/**
 * An action's result from its deliveries: text, edits and diagnostics as the deltas bring them;
 * the completed payload's lists, when it has them, are the whole result (a reader that resumed
 * mid-stream has not seen every delta).
 */
export class ActionResultBuilder {
  private text = "";
  private readonly edits: TextEdit[] = [];
  private readonly diagnostics: Diagnostic[] = [];

  /** Drops what was gathered: the answer's attempt changed (see `AttemptSequencer`). */
  reset(): void {
    this.text = "";
    this.edits.length = 0;
    this.diagnostics.length = 0;
  }

  add(delta: ChatDeltaPayload): void {
    if (delta.content) this.text += delta.content;
    if (delta.edits) this.edits.push(...delta.edits);
    if (delta.diagnostics) this.diagnostics.push(...delta.diagnostics);
  }

  complete(p: ChatCompletedPayload): EditorActionResult {
    const u: Usage = p.usage;
    return {
      text: p.message.content ?? this.text,
      edits: p.edits ?? this.edits,
      diagnostics: p.diagnostics ?? this.diagnostics,
      usage: {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        total_tokens: u.total_tokens,
      },
    };
  }
}
