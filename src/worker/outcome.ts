import type { ChatFailedPayload } from "../../contracts/index.js";
import type { Outcome } from "./decision.js";
import type { FailureKind } from "../observability/metrics.js";
import { AlreadyProcessedError, CapabilityError, PoisonMessageError } from "./handler.js";
import { StreamCancelledError } from "./running-commands.js";

/** What the client of a cancelled stream is told. */
export function cancelledFailure(why: string): ChatFailedPayload["error"] {
  return { message: `Cancelled: ${why}.`, type: "cancelled", code: "cancelled", status: 499 };
}

/**
 * The outcome of a handler run that threw `err` (data, not code paths): a cancel of the stream
 * (whatever the handler threw as it stopped), poison, a failure that is the answer, a handler
 * that had already processed the message, or else transient (stopping, when the worker is).
 */
export function outcomeOf(err: unknown, signal: AbortSignal, stopping: boolean): Outcome {
  const reason = signal.aborted ? signal.reason : undefined;
  if (reason instanceof StreamCancelledError) {
    return { kind: "failed", failure: cancelledFailure(reason.message) };
  }
  if (err instanceof PoisonMessageError) return { kind: "poison", reason: err.message };
  if (err instanceof CapabilityError) return { kind: "failed", failure: err.failure };
  if (err instanceof AlreadyProcessedError) {
    // The handler finished this message in an attempt whose outcome was never recorded here
    // (a crash between its 200 and the inbox commit). Its answer is gone; the client still
    // waits, so it is told rather than left hanging.
    return {
      kind: "failed",
      failure: {
        message: "The handler had already processed this request; its answer cannot be sent again.",
        type: "conflict",
        code: "already_processed",
        status: 409,
      },
    };
  }
  const why = err instanceof Error ? err.message : String(err);
  return stopping ? { kind: "stopping", reason: why } : { kind: "transient", reason: why };
}

/** The failure an outcome counts as (metrics, the status page), or null: a cancel is none. */
export function failureOf(outcome: Outcome): { kind: FailureKind; message: string } | null {
  switch (outcome.kind) {
    case "poison":
    case "transient":
    case "stopping":
      return { kind: outcome.kind, message: outcome.reason };
    case "failed":
      if (outcome.failure.code === "cancelled") return null;
      return { kind: "failed", message: outcome.failure.message };
    default:
      return null;
  }
}
