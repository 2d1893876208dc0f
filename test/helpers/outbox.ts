import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import type { ContextName, SubjectSpace } from "../../contracts/index.js";
import type { OutboxMessage, MessageHeaders, StreamPublisher } from "../../src/ports.js";

/** `n` outbox messages on a test command subject of `ctx`. */
export function commandMessages(
  subjects: SubjectSpace,
  ctx: ContextName,
  name: string,
  n: number,
): OutboxMessage[] {
  return Array.from({ length: n }, (_, i) => {
    const id = randomUUID();
    return {
      subject: subjects.command(ctx, name, 1),
      aggregateType: "test",
      aggregateId: `agg-${i}`,
      envelope: {
        event_id: id,
        event_type: name,
        event_version: 1,
        tenant_id: "acme",
        correlation_id: id,
        causation_id: null,
        occurred_at: new Date(Date.now() + i).toISOString(),
        payload: { i },
      },
    };
  });
}

/** Wraps a publisher and records every id it was asked to publish. */
export class CountingPublisher implements StreamPublisher {
  readonly calls: string[] = [];
  constructor(private readonly inner: StreamPublisher) {}
  async publish(subject: string, data: Uint8Array, msgId: string, h: MessageHeaders) {
    this.calls.push(msgId);
    await this.inner.publish(subject, data, msgId, h);
  }
}

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject()));
    });
  });
}
