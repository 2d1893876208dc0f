import { describe, expect, it } from "vitest";
import type { ChatResultEvent } from "../../contracts/index.js";
import { ResultSequencer } from "../../src/gateway/result-sequencer.js";

const delta = (seq: number, content = `w${seq}`): ChatResultEvent => ({
  kind: "delta",
  seq,
  attempt: 1,
  payload: { content },
});
const completed = (seq: number): ChatResultEvent => ({
  kind: "completed",
  seq,
  attempt: 1,
  payload: {
    message: { role: "assistant", content: "" },
    finish_reason: "stop",
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  },
});
const seqs = (events: ChatResultEvent[]) => events.map((e) => `${e.kind[0]}${e.seq}`);

describe("ResultSequencer", () => {
  it("passes events in order straight through", () => {
    const s = new ResultSequencer();
    expect(seqs(s.push(delta(1)))).toEqual(["d1"]);
    expect(seqs(s.push(delta(2)))).toEqual(["d2"]);
    expect(seqs(s.push(completed(3)))).toEqual(["c3"]);
    expect(s.done).toBe(true);
  });

  it("holds a later event until the gap is filled, and reports the gap", () => {
    const s = new ResultSequencer();
    expect(s.push(delta(2))).toEqual([]);
    expect(s.hasGap).toBe(true);
    expect(seqs(s.push(delta(1)))).toEqual(["d1", "d2"]);
    expect(s.hasGap).toBe(false);
  });

  it("waits for missing deltas before the terminal event", () => {
    const s = new ResultSequencer();
    s.push(delta(1));
    expect(s.push(completed(4))).toEqual([]);
    expect(s.hasGap).toBe(true);
    expect(seqs(s.push(delta(3)))).toEqual([]);
    expect(seqs(s.push(delta(2)))).toEqual(["d2", "d3", "c4"]);
    expect(s.done).toBe(true);
  });

  it("drops repeated deltas (redelivery, replay overlap)", () => {
    const s = new ResultSequencer();
    s.push(delta(1));
    s.push(delta(2));
    expect(s.push(delta(1))).toEqual([]);
    expect(s.push(delta(2))).toEqual([]);
    expect(seqs(s.push(completed(3)))).toEqual(["c3"]);
  });

  it("never drops a terminal event whose seq is below deltas already seen", () => {
    const s = new ResultSequencer();
    for (let i = 1; i <= 5; i++) s.push(delta(i));
    // A retried attempt failed before emitting anything: its failed event carries seq 1.
    const failed: ChatResultEvent = {
      kind: "failed",
      seq: 1,
      attempt: 2,
      payload: { error: { message: "x", type: "server_error", code: null, status: 502 } },
    };
    expect(seqs(s.push(failed))).toEqual(["f1"]);
    expect(s.done).toBe(true);
    expect(s.push(delta(6))).toEqual([]);
  });
});
