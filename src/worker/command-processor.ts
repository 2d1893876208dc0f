import {
  CHAT_COMMAND,
  type ChatCompletedPayload,
  type ContextName,
  type ForeignEnvelope,
  type SubjectSpace,
} from "../../contracts/index.js";
import type { Log } from "../log.js";
import { metrics } from "../observability/metrics.js";
import { traced } from "../observability/tracing.js";
import type { ImmediateDispatcher } from "../outbox/immediate-dispatcher.js";
import type {
  CancelBroadcast,
  CancellationStore,
  DeliveredCommand,
  InboxStore,
  LivePublisher,
  StreamPublisher,
} from "../ports.js";
import { backoffMs } from "../sleep.js";
import {
  decodeCommand,
  inboxKey,
  type DecodedCommand,
  type ResultBase,
} from "./command-decoder.js";
import { withDbRetry, type DbRetryPolicy } from "../db-retry.js";
import { runAttempt, type AttemptDeps } from "./attempt.js";
import { decide, type Outcome } from "./decision.js";
import { runAction } from "./action-runner.js";
import { DeltaEmitter } from "./delta-emitter.js";
import type { ChatHandler, HandlerContext, HandlerMessage, HandlerRegistry } from "./handler.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { cancelledFailure, failureOf } from "./outcome.js";
import { resultEnvelope, type ResultOrigin } from "./result-events.js";
import { RunningCommands } from "./running-commands.js";
import { Settlement, type SettleTarget } from "./settlement.js";

/** Settings and ports of one context's command processing. */
export interface CommandProcessorDeps {
  context: ContextName;
  subjects: SubjectSpace;
  inbox: InboxStore;
  publisher: StreamPublisher;
  /** Live results (core NATS): deltas as they come, terminal events once committed. */
  live: LivePublisher;
  handlers: HandlerRegistry;
  cancellations: CancellationStore;
  broadcast: CancelBroadcast;
  /** Publishes terminal events as soon as they are committed (the relay stays the safety net). */
  dispatcher?: ImmediateDispatcher | undefined;
  /** The inbox lease of a running command (renewed a third of it apart). */
  ackWaitMs: number;
  maxDeliver: number;
  log: Log;
  /** Aborted when the worker shuts down: handlers stop, messages are left for redelivery. */
  shutdown: AbortSignal;
  /** How long database writes are retried through an outage before giving up (default 60 s). */
  dbRetryMs?: number;
}

/** The delivered message as a handler sees it. */
function handlerMessage(cmd: DeliveredCommand, envelope: ForeignEnvelope): HandlerMessage {
  return {
    id: cmd.messageId!,
    subject: cmd.subject,
    eventType: envelope.event_type,
    eventVersion: envelope.event_version ?? 1,
    occurredAt: envelope.occurred_at ?? new Date().toISOString(),
    causationId: envelope.causation_id ?? null,
  };
}

/**
 * Applies the worker ack rules (ARCHITECTURE.md) to one delivered command: decode, claim the
 * inbox row (PK = message id) under a short lease that {@link LeaseKeeper} renews, run the
 * handler, then carry out the {@link decide | decision} for what happened through
 * {@link Settlement}. Nothing is acked before its effects are committed.
 */
export class CommandProcessor {
  private readonly running: RunningCommands;
  private readonly leases: LeaseKeeper;
  private readonly settlement: Settlement;
  private readonly retry: DbRetryPolicy;
  private readonly attemptDeps: AttemptDeps;

  constructor(private readonly deps: CommandProcessorDeps) {
    this.running = new RunningCommands(deps.broadcast, deps.context, deps.shutdown);
    this.leases = new LeaseKeeper(deps.inbox, deps.ackWaitMs, deps.log);
    this.retry = { forMs: deps.dbRetryMs ?? 60_000, signal: deps.shutdown };
    this.settlement = new Settlement(deps, this.retry);
    this.attemptDeps = {
      inbox: deps.inbox,
      leases: this.leases,
      ackWaitMs: deps.ackWaitMs,
      retry: this.retry,
      stopping: () => deps.shutdown.aborted,
    };
  }

  /** Commands running here now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Stops listening for cancellations and renewing leases. */
  close(): void {
    this.running.close();
    this.leases.close();
  }

  async process(cmd: DeliveredCommand): Promise<void> {
    const started = performance.now();
    if (cmd.deliveryCount > 1) metrics.commandRedelivered(this.deps.context);
    const decoded = decodeCommand(cmd);
    const envelope = decoded.envelope;
    // Every line about this command names the request it serves (correlation) and its cause.
    const log = this.deps.log.child({
      subject: cmd.subject,
      message_id: cmd.messageId,
      correlation_id: envelope?.correlation_id ?? undefined,
      causation_id: envelope?.causation_id ?? undefined,
    });
    // A consumer span continuing the trace the command was published under (NATS header).
    const attributes = {
      "messaging.destination.name": cmd.subject,
      "sea.message_id": cmd.messageId,
      "sea.delivery_count": cmd.deliveryCount,
      "sea.correlation_id": envelope?.correlation_id ?? undefined,
    };
    const name = `consume ${envelope?.event_type ?? "command"}`;
    return traced(name, { parent: cmd.traceparent, kind: "consumer", attributes }, (tp) => {
      const trace = { traceparent: tp, started };
      switch (decoded.kind) {
        case "poison":
          return this.settle(cmd, decoded, { kind: "poison", reason: decoded.reason }, log, tp);
        case "cancel":
          return this.cancel(cmd, decoded, log);
        case "chat":
          return this.run(
            cmd,
            decoded,
            decoded.payload.handler,
            (handler, ctx) => handler.handle(decoded.payload, ctx),
            log,
            trace,
          );
        case "action":
          return this.run(
            cmd,
            decoded,
            decoded.payload.handler,
            (handler, ctx) => runAction(handler, decoded.payload, ctx),
            log,
            trace,
          );
      }
    });
  }

  /**
   * Claims the command, runs `invoke` with the named handler, settles. Every kind of command
   * that streams results to a client runs through here.
   */
  private async run(
    cmd: DeliveredCommand,
    decoded: DecodedCommand & { envelope: ForeignEnvelope; origin: ResultBase },
    handlerName: string,
    invoke: (handler: ChatHandler, ctx: HandlerContext) => Promise<ChatCompletedPayload>,
    log: Log,
    trace: { traceparent: string | undefined; started: number },
  ): Promise<void> {
    const { envelope, origin } = decoded;
    const messageId = cmd.messageId!;
    const handler = this.deps.handlers.get(handlerName);
    if (!handler) {
      const reason = `no handler named '${handlerName}'`;
      return this.settle(cmd, decoded, { kind: "poison", reason }, log, trace.traceparent);
    }
    // The process() logger names the command's correlation id already.
    const clog = log.child({ stream_id: origin.streamId });
    const emitter = new DeltaEmitter(this.deps, origin);
    // Registered before the cancellation check: a cancel either is recorded by then or its
    // broadcast finds this run (the cancelling worker records, then broadcasts).
    const { controller, forget } = this.running.add(origin.tenant, origin.streamId);
    const ctx: HandlerContext = {
      message: handlerMessage(cmd, envelope),
      attempt: cmd.deliveryCount,
      tenant: origin.tenant,
      correlationId: origin.correlationId,
      signal: controller.signal,
      log: clog,
      emit: (delta) => emitter.emit(delta),
    };
    // The handler's own span; its traceparent goes on the calls it makes (HTTP handler,
    // upstream model). With tracing off, the command's traceparent is passed on as it came.
    const call = (): Promise<ChatCompletedPayload> =>
      traced(
        `handler ${handlerName}`,
        {
          parent: trace.traceparent,
          attributes: { "sea.handler": handlerName, "sea.attempt": ctx.attempt },
        },
        (traceparent) => invoke(handler, { ...ctx, traceparent }),
      );
    try {
      const { outcome, completed, attempt } = await runAttempt(this.attemptDeps, {
        messageId,
        eventType: envelope.event_type,
        deliveryCount: cmd.deliveryCount,
        origin,
        call,
        sideEffectFree: handler.sideEffects === "none",
        controller,
        emitter,
        log: clog,
      });
      const target = this.target(cmd, decoded, { ...origin, attempt }, emitter.nextSeq);
      target.traceparent = trace.traceparent;
      await this.settleTarget(
        { ...target, ...(completed ? { completed } : {}) },
        outcome,
        clog,
        handlerName,
      );
      metrics.messageProcessed(this.deps.context, handlerName, performance.now() - trace.started);
      if (outcome.kind === "completed") {
        clog.info({ chunks: emitter.nextSeq - 1, attempt }, "command processed");
      }
    } finally {
      emitter.close();
      this.leases.release(messageId);
      forget();
    }
  }

  /**
   * `chat_cancel`: record the cancellation, tell every worker (the one running the stream
   * stops it), close a command that has not started yet, then close the cancel itself.
   */
  private async cancel(
    cmd: DeliveredCommand,
    decoded: Extract<DecodedCommand, { kind: "cancel" }>,
    log: Log,
  ): Promise<void> {
    const { tenant } = decoded.origin;
    const streamId = decoded.payload.stream_id;
    const reason = decoded.payload.reason;
    await withDbRetry(
      "recording a cancellation",
      () => this.deps.cancellations.markCancelled(tenant, streamId, reason),
      this.retry,
      log,
    );
    this.deps.broadcast.announce(this.deps.context, tenant, streamId);
    // A command still queued never starts: its inbox row is closed now, with the `cancelled`
    // event its client waits for (unless a worker holds it: the broadcast stops that one).
    const commandId = decoded.envelope.causation_id;
    if (commandId) {
      const origin: ResultOrigin = { ...decoded.origin, streamId, attempt: 1 };
      const event = {
        subject: this.deps.subjects.result(this.deps.context, tenant, streamId),
        aggregateType: "chat_stream",
        aggregateId: streamId,
        envelope: resultEnvelope(origin, "failed", 1, { error: cancelledFailure(reason) }),
      };
      const closed = await withDbRetry(
        "closing a cancelled command",
        () => this.deps.inbox.closeUnstarted(commandId, CHAT_COMMAND.name, [event]),
        this.retry,
        log,
      );
      if (closed) {
        this.settlement.sendTerminal(event);
        log.info({ stream_id: streamId }, "queued command closed before it started");
      }
    }
    log.info({ stream_id: streamId, reason }, "stream cancelled");
    // The cancel itself has no client to answer: its inbox row is closed, then it is acked.
    const done = { action: "settle", failure: null, deadLetter: null } as const;
    await this.settlement.apply(done, this.target(cmd, decoded, null, 1), log);
  }

  /** Settles a command that never ran (poison before any handler). */
  private settle(
    cmd: DeliveredCommand,
    decoded: DecodedCommand,
    outcome: Outcome,
    log: Log,
    traceparent: string | undefined,
  ): Promise<void> {
    const origin = decoded.origin ? { ...decoded.origin, attempt: cmd.deliveryCount } : null;
    const target = { ...this.target(cmd, decoded, origin, 1), traceparent };
    return this.settleTarget(target, outcome, log, "none");
  }

  private settleTarget(
    target: SettleTarget,
    outcome: Outcome,
    log: Log,
    handler: string,
  ): Promise<void> {
    this.countFailure(target, outcome, handler);
    const decision = decide(outcome, target.cmd.deliveryCount, {
      maxDeliver: this.deps.maxDeliver,
      backoffMs: (n) => backoffMs(n, 250, 30_000),
    });
    return this.settlement.apply(decision, target, log);
  }

  /** Counts a run that did not complete (a cancellation is not a failure). */
  private countFailure(target: SettleTarget, outcome: Outcome, handler: string): void {
    const failure = failureOf(outcome);
    if (!failure) return;
    metrics.handlerFailed(this.deps.context, handler, failure.kind, {
      message: failure.message,
      correlationId: target.correlation.correlationId,
      streamId: target.origin?.streamId,
    });
  }

  private target(
    cmd: DeliveredCommand,
    decoded: DecodedCommand,
    origin: ResultOrigin | null,
    seq: number,
  ): SettleTarget {
    const envelope = decoded.envelope;
    const key = inboxKey(cmd, envelope);
    return {
      cmd,
      key,
      eventType: envelope?.event_type ?? "unknown",
      origin,
      seq,
      correlation: {
        correlationId: envelope?.correlation_id ?? key,
        causationId: envelope?.event_id ?? null,
        tenantId: envelope?.tenant_id ?? "unknown",
      },
    };
  }
}
