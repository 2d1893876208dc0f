import { headers as natsHeaders, type JetStreamClient, type NatsConnection } from "nats";
import type { Log } from "../../src/log.js";
import { MessageRefusedError } from "../../src/outbox/message-refused.js";
import { sleep } from "../../src/sleep.js";
import type { LivePublisher, MessageHeaders, StreamPublisher } from "../../src/ports.js";

/**
 * Failures of a publish that say nothing about the message, only that the server or the stream
 * could not be reached in time: a restart, a reconnect, a cluster electing a stream leader.
 */
const UNREACHABLE = new Set(["TIMEOUT", "503", "DISCONNECT"]);

/** Refusals of the message itself: sending it again can never succeed. */
const REFUSED = new Set(["BAD_HEADER", "MAX_PAYLOAD_EXCEEDED", "BAD_SUBJECT", "BAD_PAYLOAD"]);

/** `err` as a {@link MessageRefusedError} when the bus refuses the message for what it is. */
function refusal(err: unknown): unknown {
  const code = (err as { code?: string } | null)?.code ?? "";
  return REFUSED.has(code)
    ? new MessageRefusedError(`the bus refuses this message (${code}): ${(err as Error).message}`, {
        cause: err,
      })
    : err;
}

/** After a reconnect, a publish not yet acknowledged is sent again this often… */
export const RESEND_EVERY_MS = 250;
/** …for this long: a restarted server accepts clients before JetStream has restored its streams. */
export const RESEND_WINDOW_MS = 3_000;

/** How a publisher rides through an outage. */
export interface PublishRetry {
  /** How long a publish that found the server unreachable is sent again (0: never). */
  retryForMs: number;
  log?: Log;
  /**
   * Registers a listener called each time the connection comes back, or (on a cluster) a
   * stream this publisher writes to has elected a new leader: see `watchBusBack`.
   */
  onReconnect?: (listener: () => void) => void;
}

/**
 * Decides, for a publish awaiting its ack, whether to send it again because the connection came
 * back. What the client buffered while disconnected is flushed on reconnect, but a server still
 * restoring its streams drops it, and the publish would only learn so at its timeout (seconds
 * after the server is back). Sending it again every {@link RESEND_EVERY_MS} for a while after a
 * reconnect gets it stored as soon as JetStream is ready; the message id makes copies harmless.
 */
export class ResendClock {
  private lastReconnectAt = Number.NEGATIVE_INFINITY;

  /** When the bus last came back (epoch ms; -Infinity: never). */
  get backAt(): number {
    return this.lastReconnectAt;
  }
  private readonly waiting = new Set<() => void>();

  constructor(onReconnect: (listener: () => void) => void) {
    onReconnect(() => {
      this.lastReconnectAt = Date.now();
      for (const arm of [...this.waiting]) arm();
    });
  }

  /** `"acked"` once `attempt` is acknowledged (its error if it fails), or `"resend"`. */
  race(attempt: Promise<unknown>): Promise<"acked" | "resend"> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = () => {
        this.waiting.delete(arm);
        if (timer) clearTimeout(timer);
      };
      const arm = () => {
        timer ??= setTimeout(() => {
          settle();
          resolve("resend");
        }, RESEND_EVERY_MS);
      };
      this.waiting.add(arm);
      if (Date.now() - this.lastReconnectAt < RESEND_WINDOW_MS) arm();
      attempt.then(
        () => {
          settle();
          resolve("acked");
        },
        (err: unknown) => {
          settle();
          reject(err as Error);
        },
      );
    });
  }
}

/**
 * Publishes to JetStream with `Nats-Msg-Id` (server-side dedupe) and the envelope headers.
 * With `retryForMs`, a publish that found the server unreachable is sent again (the same
 * message id, so a copy the server did store is dropped as a duplicate) until that long has
 * passed: a worker rides through a short NATS outage instead of failing the attempt it runs.
 * With `onReconnect` too, a publish pending when the connection comes back (or its stream has a
 * new leader) is sent again at once (see {@link ResendClock}) rather than at its timeout.
 */
export class JetStreamPublisher implements StreamPublisher {
  private readonly resends: ResendClock | null;

  constructor(
    private readonly js: JetStreamClient,
    private readonly timeoutMs = 5_000,
    private readonly retry: PublishRetry = { retryForMs: 0 },
  ) {
    this.resends =
      retry.retryForMs > 0 && retry.onReconnect ? new ResendClock(retry.onReconnect) : null;
  }

  async publish(
    subject: string,
    data: Uint8Array,
    msgId: string,
    h: MessageHeaders,
  ): Promise<void> {
    const hdrs = natsHeaders();
    try {
      hdrs.set("X-Correlation-Id", h.correlationId);
      if (h.causationId) hdrs.set("X-Causation-Id", h.causationId);
      hdrs.set("X-Tenant-Id", h.tenantId);
      if (h.traceparent) hdrs.set("traceparent", h.traceparent);
    } catch (err) {
      throw refusal(err);
    }
    const startedAt = Date.now();
    for (;;) {
      // The bus coming back while this publish waits gives it a whole window again: a stream's
      // new leader can answer 503 for a moment after its election, and a row failed then would
      // wait out the relay's backoff.
      const giveUpAt =
        Math.max(startedAt, this.resends?.backAt ?? startedAt) + this.retry.retryForMs;
      try {
        const attempt = this.js.publish(subject, data, {
          msgID: msgId,
          headers: hdrs,
          timeout: this.timeoutMs,
        });
        if (!this.resends) {
          await attempt;
          return;
        }
        if ((await this.resends.race(attempt)) === "acked") return;
        if (Date.now() >= giveUpAt) {
          await attempt;
          return;
        }
        this.retry.log?.debug({ subject, msg_id: msgId }, "connection back; publishing again");
        continue;
      } catch (err) {
        const code = (err as { code?: string }).code ?? "";
        if (!UNREACHABLE.has(code) || Date.now() >= giveUpAt) throw refusal(err);
        this.retry.log?.debug({ subject, msg_id: msgId, code }, "publish unreachable; retrying");
        await sleep(RESEND_EVERY_MS);
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
