import type {
  EditorActionInfo,
  EditorActionInput,
  EditorActionResult,
} from "../../contracts/index.js";

/** How one action run is followed. */
export interface RunActionOptions {
  /** Aborting it cancels the action's command on the gateway. */
  signal?: AbortSignal;
  /** The answer's text as it streams in. */
  onText?(text: string): void;
}

/**
 * The gateway as the language server uses it: a client of the HTTP API (`/v1/editor/actions`).
 * The language server holds no state of its own beyond open documents.
 */
export interface ActionGateway {
  /** The actions the key may run. */
  listActions(): Promise<EditorActionInfo[]>;
  /** Runs one action, streamed, and resolves with its whole result. */
  runAction(
    name: string,
    input: EditorActionInput,
    opts?: RunActionOptions,
  ): Promise<EditorActionResult>;
}

/** The gateway refused or failed an action (its error message and code). */
export class ActionFailedError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
  ) {
    super(message);
    this.name = "ActionFailedError";
  }
}
