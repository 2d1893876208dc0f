import type { ChatCompletedPayload } from "./chat.js";
import type { EditorActionInput } from "./editor.js";
import type { ChatMessage } from "./openai.js";
import type { StreamStatus } from "./streams.js";

/**
 * Conversations: the runs a client started under one `X-Conversation-Id`, read back from the
 * owning contexts' outboxes (`GET /v1/conversations`, `GET /v1/conversations/{id}/runs`). The
 * ACP agent (`sea-gateway acp`) keeps its sessions this way: a session id is a conversation id.
 *
 * Glossary:
 * - run: one stream (a chat completion or an editor action) and its stored outcome.
 * - turn message: what a chat run added to the conversation, its last message (the user's).
 */

/** What started a run: a chat's last message, or an editor action and its input. */
export type ConversationRunRequest =
  | { kind: "chat"; message: ChatMessage }
  | { kind: "action"; action: string; input: EditorActionInput };

/** One run of a conversation (`GET /v1/conversations/{id}/runs`). */
export interface ConversationRun {
  object: "conversation.run";
  /** `chatcmpl-<stream id>`: what `GET /v1/chat/completions/{id}` takes. */
  id: string;
  stream_id: string;
  /** The capability (model or action) it ran. */
  model: string;
  /** Unix seconds when its command was written. */
  created: number;
  /** `in_progress` stands for every run without an outcome yet (queued or streaming). */
  status: StreamStatus;
  request: ConversationRunRequest;
  /** The stored answer once completed (an action's edits and diagnostics included). */
  result: ChatCompletedPayload | null;
  /** Why it failed or was cancelled. */
  error: { message: string; code: string | null } | null;
}

/** One conversation of the caller's tenant (`GET /v1/conversations`), newest first. */
export interface ConversationInfo {
  object: "conversation";
  id: string;
  /** Unix seconds of its first and its latest run. */
  created: number;
  updated: number;
  runs: number;
  /** The start of its first run's last message (a chat), or the action's name and instruction. */
  title: string | null;
  /** Its first chat run's first message when that is a system message (at most 1000 chars). */
  instructions: string | null;
}
