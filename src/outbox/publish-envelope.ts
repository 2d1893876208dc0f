import type { Envelope } from "../../contracts/index.js";
import { traced } from "../observability/tracing.js";
import type { StreamPublisher } from "../ports.js";

const encoder = new TextEncoder();

/** An envelope as it travels on the bus: its JSON, UTF-8. */
export const encodeEnvelope = (envelope: Envelope): Uint8Array =>
  encoder.encode(JSON.stringify(envelope));

/**
 * Publishes one outbox row's envelope, as both the immediate dispatcher and the relay do: with
 * the row id as `Nats-Msg-Id`, so whichever publishes second is a duplicate JetStream drops; the
 * envelope's correlation, causation and tenant as headers; and a producer span under the trace
 * the row was written in.
 */
export function publishEnvelope(
  publisher: StreamPublisher,
  subject: string,
  envelope: Envelope,
  rowId: string,
  parentTraceparent: string | null | undefined,
  /** The envelope already encoded (see {@link encodeEnvelope}), when the caller has it. */
  data?: Uint8Array,
): Promise<void> {
  return traced(
    `publish ${envelope.event_type}`,
    {
      parent: parentTraceparent ?? undefined,
      kind: "producer",
      attributes: { "messaging.destination.name": subject, "sea.outbox_id": rowId },
    },
    (traceparent) =>
      publisher.publish(subject, data ?? encodeEnvelope(envelope), rowId, {
        correlationId: envelope.correlation_id,
        causationId: envelope.causation_id,
        tenantId: envelope.tenant_id,
        traceparent,
      }),
  );
}
