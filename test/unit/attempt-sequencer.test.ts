import { describe, expect, it } from "vitest";
import type { ChatResultEvent } from "../../contracts/index.js";
import { AttemptSequencer, type Delivery } from "../../src/gateway/runs/attempt-sequencer.js";

const delta = (seq: number, content = `w${seq}`, attempt = 1): ChatResultEvent => ({
  kind: "delta",
  seq,
  attempt,
  payload: { content },
});
const completed = (seq: number, attempt = 1): ChatResultEvent => ({
  kind: "completed",
  seq,
  attempt,
  payload: {
    message: { role: "assistant", content: "" },
    finish_reason: "stop",
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  },
});
const failed = (seq: number, attempt: number): ChatResultEvent => ({
  kind: "failed",
  seq,
  attempt,
  payload: { error: { message: "x", type: "server_error", code: null, status: 502 } },
});
/** `d3:text`, `c4`, `f1`, `reset`. */
const show = (ds: Delivery[]) =>
  ds.map((d) =>
    d.kind === "reset"
      ? "reset"
      : d.kind === "delta"
        ? `d${d.seq}:${d.payload.content}`
        : `${d.kind[0]}${d.seq}`,
  );
const pushAll = (s: AttemptSequencer, events: ChatResultEvent[]) =>
  events.flatMap((e) => show(s.push(e)));

describe("AttemptSequencer: one attempt", () => {
  it("passes events in order straight through", () => {
    const s = new AttemptSequencer();
    expect(pushAll(s, [delta(1), delta(2), completed(3)])).toEqual(["d1:w1", "d2:w2", "c3"]);
    expect(s.done).toBe(true);
  });

  it("holds a later event until the gap is filled, and reports the gap", () => {
    const s = new AttemptSequencer();
    expect(s.push(delta(2))).toEqual([]);
    expect(s.hasGap).toBe(true);
    expect(show(s.push(delta(1)))).toEqual(["d1:w1", "d2:w2"]);
    expect(s.hasGap).toBe(false);
  });

  it("waits for missing deltas before the terminal event", () => {
    const s = new AttemptSequencer();
    s.push(delta(1));
    expect(s.push(completed(4))).toEqual([]);
    expect(s.hasGap).toBe(true);
    expect(s.push(delta(3))).toEqual([]);
    expect(show(s.push(delta(2)))).toEqual(["d2:w2", "d3:w3", "c4"]);
    expect(s.done).toBe(true);
  });

  it("drops repeated deltas (redelivery, replay overlap)", () => {
    const s = new AttemptSequencer();
    expect(pushAll(s, [delta(1), delta(2), delta(1), delta(2), completed(3)])).toEqual([
      "d1:w1",
      "d2:w2",
      "c3",
    ]);
  });
});

describe("AttemptSequencer: a retried command never mixes two attempts", () => {
  it("goes on seamlessly when the retry repeats what was delivered (deterministic handler)", () => {
    const s = new AttemptSequencer();
    expect(pushAll(s, [delta(1, "a"), delta(2, "b")])).toEqual(["d1:a", "d2:b"]);
    // Attempt 2 starts over; it is held until it has caught up with what was delivered.
    expect(pushAll(s, [delta(1, "a", 2)])).toEqual([]);
    expect(s.hasGap).toBe(true);
    expect(pushAll(s, [delta(2, "b", 2), delta(3, "c", 2), completed(4, 2)])).toEqual([
      "d3:c",
      "c4",
    ]);
  });

  it("resets when the retry answers differently (a sampling model), then delivers it whole", () => {
    const s = new AttemptSequencer();
    pushAll(s, [delta(1, "The"), delta(2, " cat")]);
    // The first delta already differs: the reset comes at once.
    expect(pushAll(s, [delta(1, "A", 2)])).toEqual(["reset", "d1:A"]);
    expect(pushAll(s, [delta(2, " dog", 2)])).toEqual(["d2: dog"]);
    // Late deltas of the first attempt are never delivered again.
    expect(pushAll(s, [delta(3, " sat"), delta(3, " ran", 2), completed(4, 2)])).toEqual([
      "d3: ran",
      "c4",
    ]);
  });

  it("follows the attempt that wrote the terminal event, even an older one", () => {
    const s = new AttemptSequencer();
    pushAll(s, [delta(1, "x"), delta(1, "x", 2), delta(2, "y", 2)]);
    // Attempt 1 was only slow: it wins the inbox and ends the stream with its own text.
    expect(pushAll(s, [delta(2, "z"), delta(3, "w"), completed(4, 1)])).toEqual([]);
    // Its first delta was delivered and let go: the gap is filled from the stored stream.
    expect(s.hasGap).toBe(true);
    const out = pushAll(s, [delta(1, "x"), delta(2, "z"), delta(3, "w")]);
    expect(out).toEqual(["reset", "d1:x", "d2:z", "d3:w", "c4"]);
  });

  it("ends with a retry's failure without a reset when nothing it sent differs", () => {
    const s = new AttemptSequencer();
    for (let i = 1; i <= 5; i++) s.push(delta(i));
    // A retried attempt failed before emitting anything: its failed event carries seq 1.
    expect(show(s.push(failed(1, 2)))).toEqual(["f1"]);
    expect(s.done).toBe(true);
    expect(s.push(delta(6))).toEqual([]);
  });

  it("resets when the winning attempt completed with fewer deltas than were delivered", () => {
    const s = new AttemptSequencer();
    pushAll(s, [delta(1, "a"), delta(2, "b"), delta(3, "c")]);
    expect(pushAll(s, [delta(1, "a", 2), completed(2, 2)])).toEqual(["reset", "d1:a", "c2"]);
  });

  it("replays a stored stream of two attempts as the final attempt only", () => {
    const s = new AttemptSequencer();
    const stored = [
      delta(1, "The"),
      delta(2, " cat"),
      delta(1, "A", 2),
      delta(2, " dog", 2),
      completed(3, 2),
    ];
    // In stream order, the first attempt is delivered, then reset by the second.
    expect(pushAll(s, stored)).toEqual(["d1:The", "d2: cat", "reset", "d1:A", "d2: dog", "c3"]);
    // A reader that had 2 chunks of some attempt cannot be continued safely.
    expect(s.agreesUpTo(2)).toBe(false);
    expect(s.agreesUpTo(0)).toBe(true);
  });

  it("knows a resume is safe when every attempt sent the same prefix", () => {
    const s = new AttemptSequencer();
    pushAll(s, [delta(1, "a"), delta(2, "b"), delta(1, "a", 2), delta(2, "b", 2)]);
    pushAll(s, [delta(3, "c", 2), completed(4, 2)]);
    expect(s.agreesUpTo(3)).toBe(true);
  });
});
