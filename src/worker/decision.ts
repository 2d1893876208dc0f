import type { ChatFailedPayload } from "../../contracts/index.js";

type Failure = ChatFailedPayload["error"];

/**
 * What happened to one delivered command: the handler's result, or why it did not run.
 *
 * - `completed`: the handler answered (its `completed` event is the terminal event).
 * - `duplicate`: the inbox already holds the command as processed.
 * - `busy`: another live worker holds the command's lease.
 * - `failed`: a failure that is the answer (an upstream model's 429, a cancel, a 409).
 * - `poison`: input that can never succeed (422, schema mismatch, undecodable).
 * - `transient`: may succeed later (a handler service's 5xx, a timeout).
 * - `stopping`: this worker is shutting down and leaves the command to another.
 */
export type Outcome =
  | { kind: "completed" }
  | { kind: "duplicate" }
  | { kind: "busy"; retryInMs: number }
  | { kind: "failed"; failure: Failure }
  | { kind: "poison"; reason: string }
  | { kind: "transient"; reason: string }
  | { kind: "stopping"; reason: string };

/**
 * What to do with the message (the worker ack rules of ARCHITECTURE.md):
 * - `ack`: nothing to record;
 * - `settle`: close the inbox row with the terminal event (the handler's answer, or `failure`
 *   for the waiting client), dead-lettering the original first if asked, then ack;
 * - `retry`: free the inbox lease (recording `reason`), then nak so it comes back after
 *   `delayMs`;
 * - `wait`: nak without touching the lease (another worker holds it).
 */
export type Decision =
  | { action: "ack" }
  | { action: "settle"; failure: Failure | null; deadLetter: string | null }
  | { action: "retry"; delayMs: number; reason: string }
  | { action: "wait"; delayMs: number };

/** Limits the decision depends on. */
export interface DecisionLimits {
  /** Deliveries after which a transiently failing command is dead-lettered. */
  maxDeliver: number;
  /** Backoff before redelivering the n-th failed delivery. */
  backoffMs(deliveryCount: number): number;
}

/** The failure a dead-lettered command's client is told about. */
export function deadLetterFailure(reason: string): Failure {
  return {
    message: `The request could not be processed: ${reason}`,
    type: "server_error",
    code: "handler_failed",
    status: 502,
  };
}

/**
 * The decision for one outcome at one delivery: a pure function of both, so the whole table
 * is tested row by row (test/unit/decision.test.ts).
 */
export function decide(outcome: Outcome, deliveryCount: number, limits: DecisionLimits): Decision {
  switch (outcome.kind) {
    case "completed":
      return { action: "settle", failure: null, deadLetter: null };
    case "duplicate":
      return { action: "ack" };
    case "busy":
      return { action: "wait", delayMs: outcome.retryInMs };
    case "failed":
      return { action: "settle", failure: outcome.failure, deadLetter: null };
    case "poison":
      return {
        action: "settle",
        failure: deadLetterFailure(outcome.reason),
        deadLetter: outcome.reason,
      };
    case "transient": {
      if (deliveryCount < limits.maxDeliver) {
        return {
          action: "retry",
          delayMs: limits.backoffMs(deliveryCount),
          reason: outcome.reason,
        };
      }
      const reason = `gave up after ${deliveryCount} attempts: ${outcome.reason}`;
      return { action: "settle", failure: deadLetterFailure(reason), deadLetter: reason };
    }
    case "stopping":
      // Not this command's fault: straight back to the stream for another worker.
      return { action: "retry", delayMs: 0, reason: `worker stopped: ${outcome.reason}` };
  }
}
