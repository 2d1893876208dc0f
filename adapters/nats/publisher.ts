import { headers as natsHeaders, type JetStreamClient, type NatsConnection } from "nats";
import type { LivePublisher, MessageHeaders, StreamPublisher } from "../../src/ports.js";

/** Publishes to JetStream with `Nats-Msg-Id` (server-side dedupe) and the envelope headers. */
export class JetStreamPublisher implements StreamPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly timeoutMs = 5_000,
  ) {}

  async publish(
    subject: string,
    data: Uint8Array,
    msgId: string,
    h: MessageHeaders,
  ): Promise<void> {
    const hdrs = natsHeaders();
    hdrs.set("X-Correlation-Id", h.correlationId);
    if (h.causationId) hdrs.set("X-Causation-Id", h.causationId);
    hdrs.set("X-Tenant-Id", h.tenantId);
    if (h.traceparent) hdrs.set("traceparent", h.traceparent);
    await this.js.publish(subject, data, { msgID: msgId, headers: hdrs, timeout: this.timeoutMs });
  }
}

/** Core NATS publishes (live results): no headers, no ack. */
export class NatsLivePublisher implements LivePublisher {
  constructor(private readonly nc: NatsConnection) {}

  publishLive(subject: string, data: Uint8Array): void {
    this.nc.publish(subject, data);
  }
}
