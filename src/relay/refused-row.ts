import {
  RESULT_EVENT_TYPES,
  type ChatFailedPayload,
  type ContextName,
  type SubjectSpace,
} from "../../contracts/index.js";
import { safeHeaderValue } from "../outbox/message-refused.js";
import type { ClaimedOutboxRow, OutboxMessage, StreamPublisher } from "../ports.js";
import { resultEnvelope } from "../worker/result-events.js";

const encoder = new TextEncoder();

/**
 * What a stream's client is told when the bus refused a row of its stream: its command (the
 * request can never reach a worker), or its answer (the answer can never reach the client).
 */
function refusalFailure(row: ClaimedOutboxRow, why: string): ChatFailedPayload["error"] | null {
  const type = row.envelope.event_type;
  if (type === RESULT_EVENT_TYPES.failed) return null; // the client is told of a failure anyway
  if (type === RESULT_EVENT_TYPES.completed) {
    return {
      message: `The answer could not be delivered (the message bus refused it: ${why}).`,
      type: "server_error",
      code: "message_refused",
      status: 502,
    };
  }
  return {
    message: `The request could not be sent to its capability (the message bus refused it: ${why}).`,
    type: "invalid_request_error",
    code: "message_refused",
    status: 422,
  };
}

/**
 * A row the bus refuses for what it is: the original goes to the context's dead-letter subject
 * (with headers it accepts), and the row's stream, if it has one, gets the terminal `failed`
 * event its client waits for (returned, to be written in the row's place).
 */
export async function deadLetterRefused(
  deps: { context: ContextName; subjects: SubjectSpace; publisher: StreamPublisher },
  row: ClaimedOutboxRow,
  why: string,
): Promise<OutboxMessage[]> {
  const env = row.envelope;
  const correlationId = safeHeaderValue(env.correlation_id);
  await deps.publisher.publish(
    deps.subjects.dlq(deps.context),
    encoder.encode(
      JSON.stringify({
        event_type: "dead_letter",
        reason: `refused by the bus: ${why}`,
        original_subject: row.subject,
        message_id: row.id,
        delivery_count: 0,
        original: JSON.stringify(env),
      }),
    ),
    `dlq:${row.id}`,
    {
      correlationId,
      causationId: env.causation_id === null ? null : safeHeaderValue(env.causation_id),
      tenantId: safeHeaderValue(env.tenant_id),
    },
  );
  const failure = refusalFailure(row, why);
  const streamId = env.stream_id;
  if (!failure || !streamId) return [];
  const origin = {
    tenant: env.tenant_id,
    streamId,
    correlationId,
    causationId: env.event_id,
    attempt: 1,
  };
  return [
    {
      subject: deps.subjects.result(deps.context, env.tenant_id, streamId),
      aggregateType: "chat_stream",
      aggregateId: streamId,
      envelope: resultEnvelope(origin, "failed", 1, { error: failure }),
    },
  ];
}
