import {
  CHAT_CANCEL_COMMAND,
  CHAT_COMMAND,
  RESPONSE_DELETED_EVENT,
  type Capability,
  type ChatCancelPayload,
  type ChatCommandPayload,
  type ChatCompletionRequest,
  type ChatDelivery,
  type ChatParams,
  type SubjectSpace,
} from "../../../contracts/index.js";
import { ID_NAMESPACES, uuidV5 } from "../../ids.js";
import type { OutboxMessage } from "../../ports.js";
import { streamMessage } from "./stream-message.js";

/**
 * The id of a stream's chat command, or of its cancel command: derived from the tenant and the
 * stream id, so a retried request (same idempotency key, so same stream) or a second cancel
 * meets the row written before instead of adding one.
 */
export function commandIdOf(tenant: string, streamId: string, kind: "chat" | "cancel"): string {
  return uuidV5(`${kind}\n${tenant}\n${streamId}`, ID_NAMESPACES.command);
}

/**
 * Request fields passed to the capability as the client sent them, under their own names (data,
 * not code). `max_tokens` and `max_completion_tokens` stay apart: reasoning models refuse the
 * first. Not here: the ones the gateway itself acts on (`model`, `messages`, `stream…`, `n`,
 * `background`), `user` (the command's own field), and those refused at admission.
 */
const PASSED_ON = [
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "seed",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
  "logprobs",
  "top_logprobs",
  "modalities",
  "prediction",
  "web_search_options",
  "prompt_cache_key",
  "prompt_cache_retention",
  "reasoning_effort",
  "verbosity",
  "service_tier",
  "safety_identifier",
  "store",
  "metadata",
] as const satisfies readonly (keyof ChatParams & keyof ChatCompletionRequest)[];

function toParams(req: ChatCompletionRequest): ChatParams {
  const params: Record<string, unknown> = {};
  for (const key of PASSED_ON) {
    const v = req[key];
    if (v !== undefined && v !== null) params[key] = v;
  }
  // One stop sequence is a list of one.
  if (req.stop != null) params.stop = typeof req.stop === "string" ? [req.stop] : req.stop;
  return params as ChatParams;
}

/** Everything needed to turn one validated request into its outbox command. */
export interface ChatCommandInput {
  request: ChatCompletionRequest;
  capability: Capability;
  tenant: string;
  streamId: string;
  correlationId: string;
  /** Who and which conversation, as the UI shell reports them (e.g. LibreChat's headers). */
  userId?: string | undefined;
  conversationId?: string | undefined;
  delivery: ChatDelivery;
}

/** Builds the `chat_completion` command and its outbox message. */
export function buildChatCommand(subjects: SubjectSpace, input: ChatCommandInput): OutboxMessage {
  const { request, capability, tenant, streamId } = input;
  const payload: ChatCommandPayload = {
    stream_id: streamId,
    model: capability.id,
    handler: capability.handler,
    messages: request.messages,
    params: toParams(request),
  };
  if (capability.upstream_model) payload.upstream_model = capability.upstream_model;
  const user = input.userId ?? request.user;
  if (user) payload.user = user;
  if (input.conversationId) payload.conversation_id = input.conversationId;
  payload.delivery = input.delivery;
  return streamMessage({
    subject: subjects.command(capability.context, capability.command, capability.command_version),
    id: commandIdOf(tenant, streamId, "chat"),
    type: {
      name: capability.command,
      version: capability.command_version ?? CHAT_COMMAND.version,
    },
    tenant,
    streamId,
    correlationId: input.correlationId,
    causationId: null,
    payload,
  });
}

/** Builds the `chat_cancel` command of a stream (whose client left, or asked to cancel it). */
export function buildCancelCommand(
  subjects: SubjectSpace,
  input: {
    capability: Capability;
    tenant: string;
    streamId: string;
    correlationId: string;
    causationId: string;
    reason: string;
  },
): OutboxMessage {
  return streamMessage<ChatCancelPayload>({
    subject: subjects.command(
      input.capability.context,
      CHAT_CANCEL_COMMAND.name,
      CHAT_CANCEL_COMMAND.version,
    ),
    id: commandIdOf(input.tenant, input.streamId, "cancel"),
    type: CHAT_CANCEL_COMMAND,
    tenant: input.tenant,
    streamId: input.streamId,
    correlationId: input.correlationId,
    causationId: input.causationId,
    payload: { stream_id: input.streamId, reason: input.reason },
  });
}

/**
 * The event recording that a client deleted its response: an outbox row of the stream (so the
 * directory, which reads the stream's rows, finds it deleted on every instance), published to
 * the context's event stream like every row. Its id derives from the stream: a second delete
 * finds the first.
 */
export function buildResponseDeleted(
  subjects: SubjectSpace,
  input: {
    capability: Capability;
    tenant: string;
    streamId: string;
    correlationId: string;
    causationId: string;
  },
): OutboxMessage {
  return streamMessage({
    subject: subjects.responseDeleted(input.capability.context, input.tenant, input.streamId),
    id: uuidV5(`deleted\n${input.tenant}\n${input.streamId}`, ID_NAMESPACES.command),
    type: RESPONSE_DELETED_EVENT,
    tenant: input.tenant,
    streamId: input.streamId,
    correlationId: input.correlationId,
    causationId: input.causationId,
    payload: { stream_id: input.streamId },
  });
}
