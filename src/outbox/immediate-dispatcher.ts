import type { ContextName } from "../../contracts/index.js";
import type { Log } from "../log.js";
import { encodeEnvelope, publishEnvelope } from "./publish-envelope.js";
import type { OutboxMessage, OutboxPublishedMarker, StreamPublisher } from "../ports.js";
import type { HandedCommand } from "../worker/local-handoff.js";

/**
 * Runs a committed command in this process at once, if a worker of `context` here takes it
 * (see LocalCommandHandoff); false: it is left to JetStream's delivery.
 */
export type LocalCommandDelivery = (context: ContextName, cmd: HandedCommand) => boolean;

const MARK_DELAY_MS = 100;

/**
 * Publishes outbox messages right after the transaction that wrote them commits, so the hot
 * path does not wait for a relay to wake up and claim the row.
 *
 * This is an optimisation on top of the outbox, never a replacement: the row is committed first;
 * it is published with `Nats-Msg-Id` = row id and then marked published (marks are batched).
 * Rows are written with a dispatch grace during which relays leave them alone; if this process
 * dies or NATS fails before the mark, a relay publishes the row after the grace and JetStream
 * drops any duplicate.
 */
export class ImmediateDispatcher {
  private readonly pendingMarks = new Map<ContextName, string[]>();
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly publisher: StreamPublisher,
    private readonly marker: OutboxPublishedMarker,
    private readonly log: Log,
    /** Commands a worker of this process may start before JetStream delivers them. */
    private readonly local?: LocalCommandDelivery,
  ) {}

  /**
   * Publishes committed messages in the background; failures are left to the relay. A command a
   * worker of this process takes is not published at all: its row stays unpublished, kept from
   * the relays while it runs (see LocalCommandHandoff).
   */
  dispatch(context: ContextName, messages: OutboxMessage[]): void {
    for (const m of messages) {
      const env = m.envelope;
      const data = encodeEnvelope(env);
      const handed = this.local?.(context, {
        subject: m.subject,
        data,
        messageId: env.event_id,
        traceparent: m.traceId ?? undefined,
      });
      if (handed) continue;
      publishEnvelope(this.publisher, m.subject, env, env.event_id, m.traceId, data).then(
        () => this.markLater(context, env.event_id),
        (err: unknown) =>
          this.log.warn(
            { err, outbox_id: env.event_id, correlation_id: env.correlation_id },
            "immediate dispatch failed; relay will publish",
          ),
      );
    }
  }

  /** Writes the marks gathered so far; later ones are left to the relay. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private markLater(context: ContextName, id: string): void {
    if (this.closed) return;
    const ids = this.pendingMarks.get(context) ?? [];
    ids.push(id);
    this.pendingMarks.set(context, ids);
    if (this.flushTimer) return;
    // One statement for every mark gathered in a short window: marks are off the hot path.
    this.flushTimer = setTimeout(() => void this.flush(), MARK_DELAY_MS);
    this.flushTimer.unref();
  }

  private async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batches = [...this.pendingMarks];
    this.pendingMarks.clear();
    await Promise.all(
      batches.map(([context, ids]) =>
        this.marker.markPublished(context, ids).catch((err: unknown) => {
          // Harmless: the relay republishes after the grace and JetStream drops the duplicate.
          this.log.warn({ err, context, count: ids.length }, "could not mark dispatched rows");
        }),
      ),
    );
  }
}
