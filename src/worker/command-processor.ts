import {
  CHAT_CANCEL_COMMAND,
  CHAT_COMMAND,
  ChatCancelPayloadSchema,
  ChatCommandPayloadSchema,
  decodeEnvelope,
  type ChatCompletedPayload,
  isSubjectToken,
  type ChatFailedPayload,
  type ContextName,
  type ForeignEnvelope,
  type SubjectSpace,
} from "../../contracts/index.js";
import type { Log } from "../log.js";
import type { ImmediateDispatcher } from "../outbox/immediate-dispatcher.js";
import type {
  CancelBroadcast,
  CancellationStore,
  DeliveredCommand,
  InboxStore,
  OutboxMessage,
  StreamPublisher,
} from "../ports.js";
import { backoffMs } from "../sleep.js";
import {
  AlreadyProcessedError,
  CapabilityError,
  PoisonMessageError,
  type HandlerContext,
  type HandlerRegistry,
} from "./handler.js";
import { DeltaEmitter } from "./delta-emitter.js";
import { resultEnvelope, type ResultOrigin } from "./result-events.js";

/** Settings and ports of one context's command processing. */
export interface CommandProcessorDeps {
  context: ContextName;
  subjects: SubjectSpace;
  inbox: InboxStore;
  publisher: StreamPublisher;
  handlers: HandlerRegistry;
  cancellations: CancellationStore;
  broadcast: CancelBroadcast;
  /** Publishes terminal events as soon as they are committed (the relay stays the safety net). */
  dispatcher?: ImmediateDispatcher | undefined;
  ackWaitMs: number;
  maxDeliver: number;
  log: Log;
  /** Aborted when the worker shuts down: handlers stop, messages are left for redelivery. */
  shutdown: AbortSignal;
}

const encoder = new TextEncoder();
const encode = (v: unknown) => encoder.encode(JSON.stringify(v));

/** The client of the stream left; its work was stopped. */
class StreamCancelledError extends Error {
  override name = "StreamCancelledError";
}

/** What the client of a cancelled stream is told. */
function cancelledFailure(why: string): ChatFailedPayload["error"] {
  return { message: `Cancelled: ${why}.`, type: "cancelled", code: "cancelled", status: 499 };
}

/** The key of a running stream: stream ids are a tenant's own. */
const runKey = (tenant: string, streamId: string) => `${tenant}\n${streamId}`;

/**
 * Failures that settle a command for good, as the client will see them (data, not code):
 * no redelivery, no dead letter. Anything else is poison or transient.
 */
function finalFailure(err: unknown): ChatFailedPayload["error"] | null {
  if (err instanceof CapabilityError) return err.failure;
  if (err instanceof StreamCancelledError) return cancelledFailure(err.message);
  if (err instanceof AlreadyProcessedError) {
    // The handler finished this message in an attempt whose outcome was never recorded here
    // (a crash between its 200 and the inbox commit). Its answer is gone; the client still
    // waits, so it is told rather than left hanging.
    return {
      message: "The handler had already processed this request; its answer cannot be sent again.",
      type: "conflict",
      code: "already_processed",
      status: 409,
    };
  }
  return null;
}

/** The inbox key of a delivery; one without `Nats-Msg-Id` is keyed by subject and event id. */
function messageKey(cmd: DeliveredCommand, decoded: Decoded | null): string {
  return cmd.messageId ?? `nomsgid:${cmd.subject}:${decoded?.envelope.event_id ?? "?"}`;
}

/** A decoded command with everything needed to answer its client. */
interface Decoded {
  envelope: ForeignEnvelope;
  origin: ResultOrigin | null;
}

/**
 * Applies the worker ack rules (ARCHITECTURE.md) to one delivered command:
 * 1. inbox row first (PK = message id): already processed ⇒ ack, no side effects;
 * 2. handler success ⇒ inbox marked processed + terminal event in the outbox, one transaction,
 *    then ack;
 * 3. 409 ⇒ ack; poison (422, schema mismatch, undecodable) ⇒ dead-letter + `failed` event + ack;
 * 4. transient ⇒ nak with backoff; at `maxDeliver` ⇒ dead-letter + `failed` event + ack.
 * Nothing is acked before its effects are committed.
 */
export class CommandProcessor {
  /** Chat commands running here, by tenant and stream id, to stop when cancelled. */
  private readonly running = new Map<string, AbortController>();
  private readonly stopListening: () => void;

  constructor(private readonly deps: CommandProcessorDeps) {
    this.stopListening = deps.broadcast.listen(deps.context, (tenant, streamId) => {
      this.running
        .get(runKey(tenant, streamId))
        ?.abort(new StreamCancelledError("the client left"));
    });
  }

  /** Stops listening for cancellations. */
  close(): void {
    this.stopListening();
  }

  async process(cmd: DeliveredCommand): Promise<void> {
    const log = this.deps.log.child({ subject: cmd.subject, message_id: cmd.messageId });
    const decoded = this.decode(cmd);
    if (!decoded.ok) return this.deadLetter(cmd, decoded.error, decoded.partial, log);
    const { envelope, origin } = decoded.value;
    if (envelope.event_type === CHAT_CANCEL_COMMAND.name)
      return this.cancel(cmd, decoded.value, log);
    const payload = ChatCommandPayloadSchema.safeParse(envelope.payload);
    if (!payload.success || !origin) {
      const reason = payload.success
        ? "command lacks a valid tenant or stream id"
        : payload.error.message;
      return this.deadLetter(cmd, `schema mismatch: ${reason}`, decoded.value, log);
    }
    const messageId = cmd.messageId!;
    const handler = this.deps.handlers.get(payload.data.handler);
    if (!handler) {
      return this.deadLetter(cmd, `no handler named '${payload.data.handler}'`, decoded.value, log);
    }
    const clog = log.child({
      correlation_id: origin.correlationId,
      stream_id: origin.streamId,
      attempt: origin.attempt,
    });
    const emitter = new DeltaEmitter(this.deps, origin);
    const key = runKey(origin.tenant, origin.streamId);
    const superseded = new AbortController();
    const ctx: HandlerContext = {
      message: {
        id: messageId,
        subject: cmd.subject,
        eventType: envelope.event_type,
        eventVersion: envelope.event_version ?? 1,
        occurredAt: envelope.occurred_at ?? new Date().toISOString(),
        causationId: envelope.causation_id ?? null,
      },
      attempt: origin.attempt,
      tenant: origin.tenant,
      correlationId: origin.correlationId,
      signal: AbortSignal.any([this.deps.shutdown, superseded.signal]),
      log: clog,
      emit: (delta) => emitter.emit(delta),
    };
    // Registered before the cancellation check: a cancel either is recorded by then or its
    // broadcast finds this run (the cancelling worker records, then broadcasts).
    this.running.set(key, superseded);
    const claiming = Promise.all([
      this.deps.inbox.claim(messageId, envelope.event_type, this.deps.ackWaitMs),
      this.deps.cancellations.isCancelled(origin.tenant, origin.streamId),
    ]);
    // Speculative start: a handler without side effects may begin while the inbox claim is in
    // flight, on a first delivery only (a duplicate first delivery needs the same command
    // published twice beyond JetStream's dedupe window). Its deltas wait until the claim
    // names the attempt, and it is aborted (its deltas dropped) if the claim is refused.
    let running: Promise<ChatCompletedPayload> | null = null;
    if (handler.sideEffects === "none" && cmd.deliveryCount === 1) {
      running = handler.handle(payload.data, ctx);
      running.catch(() => undefined);
    }
    const forget = () => {
      // A duplicate delivery running here at the same time has its own entry: keep it.
      if (this.running.get(key) === superseded) this.running.delete(key);
    };
    const [claim, cancelled] = await claiming.catch(async (err: unknown) => {
      superseded.abort(err);
      forget();
      await running?.catch(() => undefined);
      throw err;
    });
    if (cancelled && claim.status === "claimed") {
      superseded.abort(new StreamCancelledError("the client left before the work started"));
    }
    if (claim.status !== "claimed") {
      forget();
      superseded.abort(new Error(`inbox claim refused: ${claim.status}`));
      await running?.catch(() => undefined);
      await emitter.flush().catch(() => undefined);
      if (claim.status === "processed") {
        log.info("duplicate delivery: already processed");
        return cmd.ack();
      }
      log.info({ retry_in_ms: claim.retryInMs }, "another worker holds this message");
      return cmd.nak(claim.retryInMs);
    }
    emitter.open(claim.attempts);
    const attemptOrigin = emitter.resultOrigin;
    const heartbeat = this.heartbeat(cmd, messageId, clog);
    try {
      // Cancelled before it started: never call the handler (a speculative run is aborted).
      if (superseded.signal.aborted) throw superseded.signal.reason;
      const completed = await (running ?? handler.handle(payload.data, ctx));
      await emitter.flush();
      await this.closeInbox(messageId, envelope.event_type, [
        this.resultMessage(
          attemptOrigin,
          resultEnvelope(attemptOrigin, "completed", emitter.nextSeq, completed),
        ),
      ]);
      await cmd.ack();
      clog.info({ chunks: emitter.nextSeq - 1 }, "command processed");
    } catch (err) {
      await emitter.flush().catch(() => undefined);
      const reason = superseded.signal.reason;
      const cause = reason instanceof StreamCancelledError ? reason : err;
      await this.onHandlerError(
        cmd,
        cause,
        { ...decoded.value, origin: attemptOrigin },
        emitter.nextSeq,
        clog,
      );
    } finally {
      clearInterval(heartbeat);
      forget();
    }
  }

  /** `chat_cancel`: record the cancellation, tell every worker, close the inbox row, ack. */
  private async cancel(cmd: DeliveredCommand, decoded: Decoded, log: Log): Promise<void> {
    const payload = ChatCancelPayloadSchema.safeParse(decoded.envelope.payload);
    if (!payload.success || !decoded.origin) {
      return this.deadLetter(cmd, "schema mismatch: bad chat_cancel", decoded, log);
    }
    const streamId = payload.data.stream_id;
    const { tenant } = decoded.origin;
    await this.deps.cancellations.markCancelled(tenant, streamId, payload.data.reason);
    this.deps.broadcast.announce(this.deps.context, tenant, streamId);
    // A command still queued never starts: its inbox row is closed now, with the `cancelled`
    // event its client waits for (unless a worker holds it: the broadcast stops that one).
    const commandId = decoded.envelope.causation_id;
    if (commandId) {
      const origin: ResultOrigin = { ...decoded.origin, streamId, attempt: 1 };
      const event = this.resultMessage(
        origin,
        resultEnvelope(origin, "failed", 1, { error: cancelledFailure(payload.data.reason) }),
      );
      const closed = await this.deps.inbox.closeUnstarted(commandId, CHAT_COMMAND.name, [event]);
      if (closed) {
        this.deps.dispatcher?.dispatch(this.deps.context, [event]);
        log.info({ stream_id: streamId }, "queued command closed before it started");
      }
    }
    await this.deps.inbox.complete(cmd.messageId!, decoded.envelope.event_type, []);
    log.info({ stream_id: streamId, reason: payload.data.reason }, "stream cancelled");
    await cmd.ack();
  }

  private async onHandlerError(
    cmd: DeliveredCommand,
    err: unknown,
    decoded: Decoded,
    nextSeq: number,
    log: Log,
  ): Promise<void> {
    const messageId = cmd.messageId!;
    if (err instanceof PoisonMessageError) {
      return this.deadLetter(cmd, err.message, decoded, log, nextSeq);
    }
    const final = finalFailure(err);
    if (final) {
      // The outcome is settled: tell the waiting client, close the inbox row, ack.
      log.info({ status: final.status, reason: final.message }, "command ended with a failure");
      return this.closeWithFailure(cmd, decoded, nextSeq, final);
    }
    const reason = err instanceof Error ? err.message : String(err);
    if (this.deps.shutdown.aborted) {
      // Leave it for another worker: release the lease and let it redeliver at once.
      await this.deps.inbox.release(messageId, `worker stopped: ${reason}`).catch(() => undefined);
      return cmd.nak(0);
    }
    if (cmd.deliveryCount >= this.deps.maxDeliver) {
      return this.deadLetter(
        cmd,
        `gave up after ${cmd.deliveryCount} attempts: ${reason}`,
        decoded,
        log,
        nextSeq,
      );
    }
    const delay = backoffMs(cmd.deliveryCount, 250, 30_000);
    log.warn({ err, retry_in_ms: delay }, "transient handler failure; will redeliver");
    await this.deps.inbox.release(messageId, reason);
    cmd.nak(delay);
  }

  /**
   * Poison: the original goes to the dead-letter subject (deduplicated by message id), the
   * waiting client gets a `failed` event (through the outbox, with the inbox row closed), then
   * the message is acked. If any step fails, nothing is acked and the message comes back.
   */
  private async deadLetter(
    cmd: DeliveredCommand,
    reason: string,
    decoded: Decoded | null,
    log: Log,
    seq = 1,
  ): Promise<void> {
    const { publisher, subjects, context } = this.deps;
    log.error({ reason, delivery_count: cmd.deliveryCount }, "dead-lettering command");
    const dlqId = messageKey(cmd, decoded);
    await publisher.publish(
      subjects.dlq(context),
      encode({
        event_type: "dead_letter",
        reason,
        original_subject: cmd.subject,
        message_id: cmd.messageId ?? null,
        delivery_count: cmd.deliveryCount,
        original: Buffer.from(cmd.data).toString("utf8"),
      }),
      `dlq:${dlqId}`,
      {
        correlationId: decoded?.envelope.correlation_id ?? dlqId,
        causationId: decoded?.envelope.event_id ?? null,
        tenantId: decoded?.envelope.tenant_id ?? "unknown",
      },
    );
    await this.closeWithFailure(
      cmd,
      decoded,
      seq,
      {
        message: `The request could not be processed: ${reason}`,
        type: "server_error",
        code: "handler_failed",
        status: 502,
      },
      reason,
    );
  }

  /**
   * Closes the inbox row with a `failed` result event for the waiting client (when the command
   * names one), then acks. The event is written only by the call that closes the row, so a
   * redelivered message never answers its client twice.
   */
  private async closeWithFailure(
    cmd: DeliveredCommand,
    decoded: Decoded | null,
    seq: number,
    error: ChatFailedPayload["error"],
    reason: string = error.message,
  ): Promise<void> {
    const origin = decoded?.origin;
    const outbox = origin
      ? [this.resultMessage(origin, resultEnvelope(origin, "failed", seq, { error }))]
      : [];
    await this.closeInbox(
      messageKey(cmd, decoded),
      decoded?.envelope.event_type ?? "unknown",
      outbox,
      reason,
    );
    await cmd.ack();
  }

  /** Closes the inbox row with its outbox messages; dispatches them if this call closed it. */
  private async closeInbox(
    messageId: string,
    eventType: string,
    outbox: OutboxMessage[],
    error?: string,
  ): Promise<void> {
    const closed = await this.deps.inbox.complete(messageId, eventType, outbox, error);
    if (closed && outbox.length > 0) this.deps.dispatcher?.dispatch(this.deps.context, outbox);
  }

  private decode(
    cmd: DeliveredCommand,
  ): { ok: true; value: Decoded } | { ok: false; error: string; partial: Decoded | null } {
    const env = decodeEnvelope(cmd.data);
    if (!env.ok) return { ok: false, error: env.error, partial: null };
    const origin = this.originOf(env.value, cmd.deliveryCount);
    const value = { envelope: env.value, origin };
    if (!cmd.messageId) return { ok: false, error: "missing Nats-Msg-Id header", partial: value };
    return { ok: true, value };
  }

  private originOf(env: ForeignEnvelope, attempt: number): ResultOrigin | null {
    const streamId =
      env.stream_id ?? (env.payload as { stream_id?: unknown } | undefined)?.stream_id;
    const tenant = env.tenant_id;
    if (typeof streamId !== "string" || !isSubjectToken(streamId)) return null;
    if (typeof tenant !== "string" || !isSubjectToken(tenant)) return null;
    return {
      tenant,
      streamId,
      correlationId: env.correlation_id ?? env.event_id ?? streamId,
      causationId: env.event_id ?? env.command_id ?? streamId,
      attempt,
    };
  }

  private resultMessage(origin: ResultOrigin, envelope: OutboxMessage["envelope"]): OutboxMessage {
    return {
      subject: this.deps.subjects.result(this.deps.context, origin.tenant, origin.streamId),
      aggregateType: "chat_stream",
      aggregateId: origin.streamId,
      envelope,
    };
  }

  /** Keeps the message and the inbox lease alive while a long handler runs. */
  private heartbeat(cmd: DeliveredCommand, messageId: string, log: Log): NodeJS.Timeout {
    const every = Math.max(1000, Math.floor(this.deps.ackWaitMs / 3));
    const timer = setInterval(() => {
      cmd.working();
      this.deps.inbox.extendLease(messageId, this.deps.ackWaitMs).catch((err: unknown) => {
        log.warn({ err }, "could not extend the inbox lease");
      });
    }, every);
    timer.unref();
    return timer;
  }
}
