import { randomUUID } from "node:crypto";
import {
  CHAT_RESULT_EVENT,
  RESULT_EVENT_TYPES,
  type ChatFailedPayload,
  type ContextName,
  type Envelope,
} from "../contracts/index.js";
import type { RawResult, ResultFeed, ResultSubscription } from "../src/ports.js";

const encoder = new TextEncoder();

/**
 * The gateway's result feed, able to end every open subscription when the process shuts down.
 *
 * A stream still open when the shutdown grace runs out would otherwise be cut off mid-answer with
 * no error for the client. {@link endAll} hands each subscriber a terminal `chat_failed` result
 * (503 with `retry-after`), exactly as a worker reports a failure: the client sees an error event,
 * or a real 503 before the first chunk, and the response closes cleanly. Its `seq` is 1: a
 * terminal event is delivered after whatever arrived before it, never held back as a gap.
 */
export class ShutdownResultFeed implements ResultFeed {
  private readonly open = new Map<symbol, { subject: string; deliver: (m: RawResult) => void }>();

  constructor(private readonly inner: ResultFeed) {}

  async subscribe(subject: string, onMessage: (m: RawResult) => void): Promise<ResultSubscription> {
    const key = Symbol(subject);
    this.open.set(key, { subject, deliver: onMessage });
    try {
      const sub = await this.inner.subscribe(subject, onMessage);
      return {
        close: () => {
          this.open.delete(key);
          sub.close();
        },
      };
    } catch (err) {
      this.open.delete(key);
      throw err;
    }
  }

  replay(context: ContextName, subject: string): Promise<RawResult[]> {
    return this.inner.replay(context, subject);
  }

  /** Number of subscriptions still open. */
  get size(): number {
    return this.open.size;
  }

  /** Ends every open subscription with a `failed` result carrying `message` (503). */
  endAll(message: string, retryAfterSecs = 5): void {
    const payload: ChatFailedPayload = {
      error: {
        message,
        type: "service_unavailable",
        code: "shutting_down",
        status: 503,
        retry_after: retryAfterSecs,
      },
    };
    for (const { subject, deliver } of [...this.open.values()]) {
      // Result subjects end in `.<tenant>.<stream_id>`.
      const [tenant = "unknown", streamId = "unknown"] = subject.split(".").slice(-2);
      const envelope: Envelope<ChatFailedPayload> = {
        event_id: randomUUID(),
        event_type: RESULT_EVENT_TYPES.failed,
        event_version: CHAT_RESULT_EVENT.version,
        tenant_id: tenant,
        correlation_id: streamId,
        causation_id: null,
        occurred_at: new Date().toISOString(),
        payload,
        stream_id: streamId,
        seq: 1,
        attempt: 1,
      };
      deliver({ data: encoder.encode(JSON.stringify(envelope)) });
    }
  }
}
