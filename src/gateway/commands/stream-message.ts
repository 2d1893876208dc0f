import type { Envelope } from "../../../contracts/index.js";
import type { OutboxMessage } from "../../ports.js";

/** One event of a chat stream, as its builder knows it. */
export interface StreamEvent<P> {
  subject: string;
  id: string;
  type: { name: string; version: number };
  tenant: string;
  streamId: string;
  correlationId: string;
  causationId: string | null;
  payload: P;
}

/**
 * The outbox message of one event of a chat stream: its envelope, stamped now, under the
 * stream's aggregate. Every kind of stream (chat, action, response) uses the one aggregate,
 * which is how the stream directory finds them all.
 */
export function streamMessage<P>(e: StreamEvent<P>): OutboxMessage {
  const envelope: Envelope<P> = {
    event_id: e.id,
    event_type: e.type.name,
    event_version: e.type.version,
    tenant_id: e.tenant,
    correlation_id: e.correlationId,
    causation_id: e.causationId,
    occurred_at: new Date().toISOString(),
    payload: e.payload,
    stream_id: e.streamId,
  };
  return { subject: e.subject, aggregateType: "chat_stream", aggregateId: e.streamId, envelope };
}
