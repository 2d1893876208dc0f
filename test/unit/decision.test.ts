import { describe, expect, it } from "vitest";
import { decide, deadLetterFailure, type Outcome } from "../../src/worker/decision.js";

const limits = { maxDeliver: 5, backoffMs: (n: number) => n * 100 };
const cancelled = { message: "Cancelled.", type: "cancelled", code: "cancelled", status: 499 };

// The worker ack rules (ARCHITECTURE.md) as a table: outcome, delivery, expected decision.
const table: [string, Outcome, number, ReturnType<typeof decide>][] = [
  [
    "handler answered: close with its answer, ack",
    { kind: "completed" },
    1,
    { action: "settle", failure: null, deadLetter: null },
  ],
  ["already processed (inbox): ack, no effects", { kind: "duplicate" }, 3, { action: "ack" }],
  [
    "another worker holds it: come back when its lease ends",
    { kind: "busy", retryInMs: 700 },
    2,
    { action: "wait", delayMs: 700 },
  ],
  [
    "a final failure (upstream 429, cancel, 409): tell the client, ack",
    { kind: "failed", failure: cancelled },
    1,
    { action: "settle", failure: cancelled, deadLetter: null },
  ],
  [
    "poison: dead-letter, tell the client, ack",
    { kind: "poison", reason: "422 bad payload" },
    1,
    {
      action: "settle",
      failure: deadLetterFailure("422 bad payload"),
      deadLetter: "422 bad payload",
    },
  ],
  [
    "transient, first delivery: free the lease, redeliver after backoff",
    { kind: "transient", reason: "503" },
    1,
    { action: "retry", delayMs: 100, reason: "503" },
  ],
  [
    "transient, one before the limit: still retried",
    { kind: "transient", reason: "503" },
    4,
    { action: "retry", delayMs: 400, reason: "503" },
  ],
  [
    "transient at MAX_DELIVER: dead-letter and tell the client",
    { kind: "transient", reason: "503" },
    5,
    {
      action: "settle",
      failure: deadLetterFailure("gave up after 5 attempts: 503"),
      deadLetter: "gave up after 5 attempts: 503",
    },
  ],
  [
    "worker stopping: free the lease, redeliver at once to another worker",
    { kind: "stopping", reason: "shutdown" },
    19,
    { action: "retry", delayMs: 0, reason: "worker stopped: shutdown" },
  ],
];

describe("what happens to a delivered command", () => {
  it.each(table)("%s", (_name, outcome, delivery, expected) => {
    expect(decide(outcome, delivery, limits)).toEqual(expected);
  });
});
