import { describe, expect, it } from "vitest";
import type { Outcome } from "../../src/worker/decision.js";
import {
  AlreadyProcessedError,
  CapabilityError,
  PoisonMessageError,
} from "../../src/worker/handler.js";
import { cancelledFailure, failureOf, outcomeOf } from "../../src/worker/outcome.js";
import { StreamCancelledError } from "../../src/worker/running-commands.js";

const failure = { message: "Upstream said 429", type: "rate_limit_error", code: "x", status: 429 };
const open = () => new AbortController().signal;
const aborted = (reason: unknown) => {
  const c = new AbortController();
  c.abort(reason);
  return c.signal;
};

describe("a handler error's outcome", () => {
  const rows: [string, unknown, AbortSignal, boolean, Outcome][] = [
    [
      "the stream was cancelled (whatever the handler threw as it stopped)",
      new Error("aborted"),
      aborted(new StreamCancelledError("the client left")),
      false,
      { kind: "failed", failure: cancelledFailure("the client left") },
    ],
    [
      "a cancel wins over poison",
      new PoisonMessageError("bad"),
      aborted(new StreamCancelledError("the client left")),
      false,
      { kind: "failed", failure: cancelledFailure("the client left") },
    ],
    ["poison", new PoisonMessageError("bad"), open(), false, { kind: "poison", reason: "bad" }],
    [
      "a failure that is the answer",
      new CapabilityError(failure),
      open(),
      false,
      { kind: "failed", failure },
    ],
    [
      "already processed by the handler",
      new AlreadyProcessedError(),
      open(),
      false,
      {
        kind: "failed",
        failure: expect.objectContaining({ code: "already_processed", status: 409 }) as never,
      },
    ],
    [
      "anything else",
      new Error("ECONNRESET"),
      open(),
      false,
      { kind: "transient", reason: "ECONNRESET" },
    ],
    ["a thrown string", "boom", open(), false, { kind: "transient", reason: "boom" }],
    [
      "anything else while the worker stops",
      new Error("aborted"),
      aborted(new Error("shutdown")),
      true,
      { kind: "stopping", reason: "aborted" },
    ],
  ];
  it.each(rows)("%s", (_, err, signal, stopping, expected) => {
    expect(outcomeOf(err, signal, stopping)).toEqual(expected);
  });

  it("tells the client of a cancelled stream why, with status 499", () => {
    expect(cancelledFailure("the client left")).toEqual({
      message: "Cancelled: the client left.",
      type: "cancelled",
      code: "cancelled",
      status: 499,
    });
  });
});

describe("what an outcome counts as a failure", () => {
  const rows: [Outcome, ReturnType<typeof failureOf>][] = [
    [{ kind: "completed" }, null],
    [{ kind: "duplicate" }, null],
    [{ kind: "busy", retryInMs: 5 }, null],
    [{ kind: "failed", failure: cancelledFailure("x") }, null],
    [
      { kind: "failed", failure },
      { kind: "failed", message: failure.message },
    ],
    [
      { kind: "poison", reason: "bad" },
      { kind: "poison", message: "bad" },
    ],
    [
      { kind: "transient", reason: "t" },
      { kind: "transient", message: "t" },
    ],
    [
      { kind: "stopping", reason: "s" },
      { kind: "stopping", message: "s" },
    ],
  ];
  it.each(rows)("%j", (outcome, expected) => {
    expect(failureOf(outcome)).toEqual(expected);
  });
});
