import type { ChatCompletedPayload } from "../../contracts/index.js";
import { withDbRetry, type DbRetryPolicy } from "../db-retry.js";
import type { Log } from "../log.js";
import type { InboxStore } from "../ports.js";
import type { Outcome } from "./decision.js";
import type { DeltaEmitter } from "./delta-emitter.js";
import type { LeaseKeeper } from "./lease-keeper.js";
import { outcomeOf } from "./outcome.js";
import type { ResultOrigin } from "./result-events.js";
import { StreamCancelledError } from "./running-commands.js";

/** What one delivery's attempt came to, for the settlement. */
export interface AttemptResult {
  outcome: Outcome;
  /** The handler's answer, when it completed. */
  completed?: ChatCompletedPayload;
  /** The attempt number the inbox claim gave (the delivery count if it gave none). */
  attempt: number;
}

/** One delivery of a command that streams results, ready to run. */
export interface AttemptPlan {
  messageId: string;
  eventType: string;
  deliveryCount: number;
  origin: Omit<ResultOrigin, "attempt">;
  /** Runs the handler (inside its span). */
  call(): Promise<ChatCompletedPayload>;
  /** True for a handler whose second run changes nothing outside the reply. */
  sideEffectFree: boolean;
  /** Aborted by a cancel of the stream, or the worker's shutdown. */
  controller: AbortController;
  emitter: DeltaEmitter;
  log: Log;
}

/** The worker's parts an attempt uses. */
export interface AttemptDeps {
  inbox: InboxStore;
  leases: LeaseKeeper;
  ackWaitMs: number;
  retry: DbRetryPolicy;
  /** True once the worker is shutting down (a failure then leaves the command to another). */
  stopping(): boolean;
}

/**
 * Claims the command's inbox row and, if claimed, runs the handler under the lease (renewed by
 * the {@link LeaseKeeper} until the caller releases it), flushing its deltas before it returns.
 *
 * Speculative start: a handler without side effects may begin while the claim is in flight, on
 * a first delivery only (a duplicate first delivery needs the same command published twice
 * beyond JetStream's dedupe window). Its deltas wait until the claim names the attempt, and it
 * is aborted (its deltas dropped) if the claim is refused. A stream cancelled before the claim
 * never calls the handler (a speculative run is aborted).
 */
export async function runAttempt(deps: AttemptDeps, plan: AttemptPlan): Promise<AttemptResult> {
  const { controller, emitter, log } = plan;
  const claiming = withDbRetry(
    "claiming the command",
    () => deps.inbox.claim(plan.messageId, plan.eventType, deps.ackWaitMs, plan.origin),
    deps.retry,
    log,
  );
  let speculative: Promise<ChatCompletedPayload> | null = null;
  if (plan.sideEffectFree && plan.deliveryCount === 1) {
    speculative = plan.call();
    speculative.catch(() => undefined);
  }
  const claim = await claiming.catch(async (err: unknown) => {
    controller.abort(err);
    await speculative?.catch(() => undefined);
    throw err;
  });
  if (claim.status !== "claimed") {
    controller.abort(new Error(`inbox claim refused: ${claim.status}`));
    await speculative?.catch(() => undefined);
    if (claim.status === "processed") {
      log.info("duplicate delivery: already processed");
      return { outcome: { kind: "duplicate" }, attempt: plan.deliveryCount };
    }
    log.info({ retry_in_ms: claim.retryInMs }, "another worker holds this message");
    return { outcome: { kind: "busy", retryInMs: claim.retryInMs }, attempt: plan.deliveryCount };
  }
  const attempt = claim.attempts;
  emitter.open(attempt);
  deps.leases.hold(plan.messageId);
  if (claim.cancelled) {
    controller.abort(new StreamCancelledError("the client left before the work started"));
  }
  try {
    if (controller.signal.aborted) throw controller.signal.reason;
    const completed = await (speculative ?? plan.call());
    await emitter.flush();
    return { outcome: { kind: "completed" }, completed, attempt };
  } catch (err) {
    await emitter.flush().catch(() => undefined);
    const outcome = outcomeOf(err, controller.signal, deps.stopping());
    if (outcome.kind === "transient") {
      log.warn({ err, attempt }, "attempt failed (handler or publishing its output)");
    }
    return { outcome, attempt };
  }
}
