import type {
  ChatMessage,
  ConversationInfo,
  ConversationRun,
  EditorActionInfo,
  EditorActionInput,
  EditorActionResult,
  FinishReason,
  StoredChatCompletion,
} from "../../contracts/index.js";

/** One chat run a prompt turn starts. */
export interface ChatRunRequest {
  model: string;
  messages: ChatMessage[];
  /** The ACP session: sent as `X-Conversation-Id`, so the run is found again on load. */
  conversationId: string;
  /** Chosen by the agent (`X-Stream-Id`), so a stream dropped before its headers can resume. */
  streamId: string;
}

/** What a chat run streams. */
export interface ChatRunHandlers {
  onContent(text: string): void;
  onReasoning(text: string): void;
}

/** How one action run is followed. */
export interface ActionRunOptions {
  conversationId: string;
  /** Aborting it cancels the action on the gateway. */
  signal: AbortSignal;
  onText(text: string): void;
}

/**
 * The gateway as the ACP agent uses it: a client of its HTTP API. The agent keeps no durable
 * state of its own: a session is a conversation of runs on the gateway.
 */
export interface AgentGateway {
  /** The editor actions the key may run (also how a key is checked). */
  listActions(): Promise<EditorActionInfo[]>;
  /**
   * Runs one chat, streamed; a dropped stream is resumed by its id from the last event seen.
   * Resolves with the finish reason once the run completes.
   */
  chat(
    req: ChatRunRequest,
    handlers: ChatRunHandlers,
    signal: AbortSignal,
  ): Promise<{ finishReason: FinishReason | null }>;
  /** Cancels a chat run on the gateway (a dropped reader is not a cancel). */
  cancelChat(streamId: string): Promise<void>;
  /** A run's stored completion and status (the answer so far while it runs). */
  chatStatus(streamId: string): Promise<StoredChatCompletion>;
  runAction(
    name: string,
    input: EditorActionInput,
    opts: ActionRunOptions,
  ): Promise<EditorActionResult>;
  /** A conversation's runs in order; null when it has none (or is another tenant's). */
  conversationRuns(conversationId: string): Promise<ConversationRun[] | null>;
  /** The tenant's conversations, latest first, updated before `before` (unix seconds). */
  conversations(before?: number): Promise<{ data: ConversationInfo[]; hasMore: boolean }>;
}

/**
 * The gateway refused or failed a request: its HTTP status (0 when it could not be reached),
 * error code and message.
 */
export class GatewayRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
  ) {
    super(message);
    this.name = "GatewayRequestError";
  }

  /** The key was refused (missing, expired, revoked, or not allowed at all). */
  get isAuth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}
