import {
  EDITOR_ACTION_COMMAND,
  type ActionCapability,
  type ChatDelivery,
  type EditorActionInput,
  type EditorActionPayload,
  type SubjectSpace,
} from "../../../contracts/index.js";
import type { OutboxMessage } from "../../ports.js";
import { commandIdOf } from "./chat-command.js";
import { streamMessage } from "./stream-message.js";

/** Everything needed to turn one validated action request into its outbox command. */
export interface ActionCommandInput {
  action: ActionCapability;
  input: EditorActionInput;
  tenant: string;
  streamId: string;
  correlationId: string;
  /** Who and which conversation, as the editor reports them (`X-User-Id`, `X-Conversation-Id`). */
  userId?: string | undefined;
  conversationId?: string | undefined;
  delivery: ChatDelivery;
}

/**
 * Builds the `editor_action` command and its outbox message. Its id is the stream's command id
 * (the same derivation as a chat's), so a stream has one command whatever its kind: a retry
 * meets the row written before, and an idempotency key reused for another kind of request is
 * refused like any other body.
 */
export function buildActionCommand(subjects: SubjectSpace, c: ActionCommandInput): OutboxMessage {
  const { action, streamId } = c;
  const payload: EditorActionPayload = {
    stream_id: streamId,
    model: action.id,
    handler: action.handler,
    action: action.id,
    output: action.output,
    input: c.input,
    delivery: c.delivery,
  };
  if (action.upstream_model) payload.upstream_model = action.upstream_model;
  if (action.prompt) payload.prompt = action.prompt;
  if (c.userId) payload.user = c.userId;
  if (c.conversationId) payload.conversation_id = c.conversationId;
  return streamMessage({
    subject: subjects.command(
      action.context,
      EDITOR_ACTION_COMMAND.name,
      EDITOR_ACTION_COMMAND.version,
    ),
    id: commandIdOf(c.tenant, streamId, "chat"),
    type: EDITOR_ACTION_COMMAND,
    tenant: c.tenant,
    streamId,
    correlationId: c.correlationId,
    causationId: null,
    payload,
  });
}
