import { describe, expect, it } from "vitest";
import type { StreamStatus } from "../../contracts/index.js";
import type { Delivery, Terminal } from "../../src/gateway/runs/attempt-sequencer.js";
import { statusOf, storedCompletion } from "../../src/gateway/runs/stored-completion.js";

const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
const completed: Terminal = {
  kind: "completed",
  seq: 3,
  attempt: 1,
  payload: {
    message: { role: "assistant", content: "a b" },
    finish_reason: "stop",
    usage,
  },
};
const failed = (code: string | null): Terminal => ({
  kind: "failed",
  seq: 2,
  attempt: 1,
  payload: { error: { message: "no", type: "x", code, status: code === "cancelled" ? 499 : 502 } },
});

describe("a stored stream's status", () => {
  const rows: [string, Terminal | null, boolean, number, StreamStatus][] = [
    ["nothing yet", null, false, 0, "queued"],
    ["some deltas", null, false, 2, "in_progress"],
    ["a cancel written, no end yet", null, true, 2, "cancelled"],
    ["a cancel written before any delta", null, true, 0, "cancelled"],
    ["completed", completed, false, 2, "completed"],
    ["completed although a cancel was written (too late)", completed, true, 2, "completed"],
    ["failed", failed("upstream_error"), false, 1, "failed"],
    ["failed with no code", failed(null), false, 0, "failed"],
    ["ended by its cancel", failed("cancelled"), true, 1, "cancelled"],
  ];
  it.each(rows)("%s", (_, terminal, cancelRequested, deltas, expected) => {
    expect(statusOf(terminal, cancelRequested, deltas)).toBe(expected);
  });
});

describe("the stored completion object", () => {
  const run = { id: "chatcmpl-s1", created: 1, model: "sea", streamId: "s1", delivery: {} };
  const deltas: Delivery[] = [
    { kind: "delta", seq: 1, payload: { content: "a " } },
    { kind: "delta", seq: 2, payload: { content: "b" } },
  ];

  it("holds the answer so far while it runs, with null usage and finish reason", () => {
    const c = storedCompletion(run, deltas, false);
    expect(c).toMatchObject({ status: "in_progress", usage: null, error: null });
    expect(c.choices[0]).toMatchObject({ message: { content: "a b" }, finish_reason: null });
  });

  it("holds the whole answer and usage once completed", () => {
    const c = storedCompletion(run, [...deltas, completed], false);
    expect(c).toMatchObject({ status: "completed", usage, error: null });
    expect(c.choices[0]).toMatchObject({ message: { content: "a b" }, finish_reason: "stop" });
  });

  it("says why it failed", () => {
    const c = storedCompletion(run, [deltas[0]!, failed("upstream_error")], false);
    expect(c).toMatchObject({ status: "failed", error: { code: "upstream_error", message: "no" } });
    expect(c.choices[0]!.message.content).toBe("a ");
  });
});
