import { headers as natsHeaders, type JetStreamClient, type NatsConnection } from "nats";
import type { LivePublisher, MessageHeaders, StreamPublisher } from "../../src/ports.js";

/**
 * Failures of a publish that say nothing about the message, only that the server or the stream
 * could not be reached in time: a restart, a reconnect, a cluster electing a stream leader.
 */
const UNREACHABLE = new Set(["TIMEOUT", "503", "DISCONNECT"]);

/**
 * Publishes to JetStream with `Nats-Msg-Id` (server-side dedupe) and the envelope headers.
 * With `retryForMs`, a publish that found the server unreachable is sent again (the same
 * message id, so a copy the server did store is dropped as a duplicate) until that long has
 * passed: a worker rides through a short NATS outage instead of failing the attempt it runs.
 */
export class JetStreamPublisher implements StreamPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly timeoutMs = 5_000,
    private readonly retry: { retryForMs: number } = { retryForMs: 0 },
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
    const giveUpAt = Date.now() + this.retry.retryForMs;
    for (;;) {
      try {
        await this.js.publish(subject, data, {
          msgID: msgId,
          headers: hdrs,
          timeout: this.timeoutMs,
        });
        return;
      } catch (err) {
        const code = (err as { code?: string }).code ?? "";
        if (!UNREACHABLE.has(code) || Date.now() >= giveUpAt) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}

/** Core NATS publishes (live results): no headers, no ack. */
export class NatsLivePublisher implements LivePublisher {
  constructor(private readonly nc: NatsConnection) {}

  publishLive(subject: string, data: Uint8Array): void {
    this.nc.publish(subject, data);
  }
}
