import type {
  ChatCompletedPayload,
  ChatFailedPayload,
  ContextName,
  Envelope,
  SubjectSpace,
} from "../../contracts/index.js";
import type { Log } from "../log.js";
import { traced } from "../observability/tracing.js";
import type { ImmediateDispatcher } from "../outbox/immediate-dispatcher.js";
import type {
  DeliveredCommand,
  InboxStore,
  LivePublisher,
  OutboxMessage,
  StreamPublisher,
} from "../ports.js";
import { withDbRetry, type DbRetryPolicy } from "../db-retry.js";
import type { Decision } from "./decision.js";
import { resultEnvelope, type ResultOrigin } from "./result-events.js";

const encoder = new TextEncoder();

/** Ports the settlement writes through. */
export interface SettlementDeps {
  context: ContextName;
  subjects: SubjectSpace;
  inbox: InboxStore;
  publisher: StreamPublisher;
  live: LivePublisher;
  dispatcher?: ImmediateDispatcher | undefined;
}

/** The command being settled, and what its terminal event needs. */
export interface SettleTarget {
  cmd: DeliveredCommand;
  /** The inbox key. */
  key: string;
  eventType: string;
  /** The client to answer; null when the command names none (nothing to tell). */
  origin: ResultOrigin | null;
  /** The terminal event's seq (deltas already sent + 1). */
  seq: number;
  /** The handler's answer, for a `settle` without failure. */
  completed?: ChatCompletedPayload;
  /** The correlation of a dead letter when the command could not be decoded. */
  correlation: { correlationId: string; causationId: string | null; tenantId: string };
  /** The trace context of the command's processing (its terminal event continues it). */
  traceparent?: string | undefined;
}

/**
 * Carries out a {@link Decision}: nothing is acked before its effects are committed; the
 * terminal event is written in the statement that closes the inbox row, and only by the call
 * that closes it (so a redelivered command never answers its client twice). Database writes
 * are retried while the database is briefly unreachable, so a finished answer is not thrown
 * away for a short outage.
 */
export class Settlement {
  constructor(
    private readonly deps: SettlementDeps,
    private readonly retry: DbRetryPolicy,
  ) {}

  async apply(decision: Decision, t: SettleTarget, log: Log): Promise<void> {
    switch (decision.action) {
      case "ack":
        return t.cmd.ack();
      case "wait":
        return t.cmd.nak(decision.delayMs);
      case "retry":
        await this.deps.inbox
          .release(t.key, decision.reason)
          .catch((err: unknown) =>
            log.warn({ err }, "database unavailable: lease not released (it runs out)"),
          );
        return t.cmd.nak(decision.delayMs);
      case "settle": {
        const kind =
          decision.deadLetter !== null ? "dead_letter" : decision.failure ? "failed" : "completed";
        return traced(`result ${kind}`, { parent: t.traceparent }, (traceparent) =>
          this.settle(decision, { ...t, traceparent }, log),
        );
      }
    }
  }

  /** Dead-letters if asked, closes the inbox row with the terminal event, then acks. */
  private async settle(
    decision: Extract<Decision, { action: "settle" }>,
    t: SettleTarget,
    log: Log,
  ): Promise<void> {
    if (decision.deadLetter !== null) await this.deadLetter(t, decision.deadLetter, log);
    const outbox = t.origin ? [this.terminalMessage(t, decision.failure)] : [];
    const error = decision.failure?.message;
    const closed = await withDbRetry(
      "recording the outcome",
      () => this.deps.inbox.complete(t.key, t.eventType, outbox, error),
      this.retry,
      log,
    );
    if (closed && outbox.length > 0) this.sendTerminal(outbox[0]!);
    return t.cmd.ack();
  }

  /**
   * Sends a committed terminal event on: published from the outbox at once, and live too, so
   * the reader does not wait for the publish and its ack.
   */
  sendTerminal(event: OutboxMessage): void {
    this.deps.dispatcher?.dispatch(this.deps.context, [event]);
    const { tenant_id, stream_id } = event.envelope;
    this.deps.live.publishLive(
      this.deps.subjects.liveResult(this.deps.context, tenant_id, stream_id!),
      encoder.encode(JSON.stringify(event.envelope)),
    );
  }

  /** The original goes to the dead-letter subject (deduplicated by its inbox key). */
  private async deadLetter(t: SettleTarget, reason: string, log: Log): Promise<void> {
    const { publisher, subjects, context } = this.deps;
    log.error({ reason, delivery_count: t.cmd.deliveryCount }, "dead-lettering command");
    await publisher.publish(
      subjects.dlq(context),
      encoder.encode(
        JSON.stringify({
          event_type: "dead_letter",
          reason,
          original_subject: t.cmd.subject,
          message_id: t.cmd.messageId ?? null,
          delivery_count: t.cmd.deliveryCount,
          original: Buffer.from(t.cmd.data).toString("utf8"),
        }),
      ),
      `dlq:${t.key}`,
      { ...t.correlation, traceparent: t.traceparent },
    );
  }

  private terminalMessage(
    t: SettleTarget,
    failure: ChatFailedPayload["error"] | null,
  ): OutboxMessage {
    const origin = t.origin!;
    const envelope: Envelope =
      failure === null
        ? resultEnvelope(origin, "completed", t.seq, t.completed!)
        : resultEnvelope(origin, "failed", t.seq, { error: failure });
    return {
      subject: this.deps.subjects.result(this.deps.context, origin.tenant, origin.streamId),
      aggregateType: "chat_stream",
      aggregateId: origin.streamId,
      envelope,
      traceId: t.traceparent,
    };
  }
}
