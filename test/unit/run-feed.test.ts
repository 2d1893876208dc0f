import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RawResult, ResultFeed } from "../../src/ports.js";
import { RunFeed } from "../../src/gateway/runs/run-feed.js";
import type { Delivery } from "../../src/gateway/runs/attempt-sequencer.js";
import { testLog } from "../helpers/env.js";

const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const delta = (seq: number, content: string) =>
  encode({ event_type: "chat_delta", seq, attempt: 1, payload: { content } });

/** A bus whose stored stream and reconnects the test controls; nothing arrives live. */
function bus() {
  const stored: RawResult[] = [];
  let reconnect = () => {};
  let reads = 0;
  const feed: ResultFeed = {
    subscribe: () => Promise.resolve({ close: () => undefined }),
    replay: (_ctx, _subject, fromSeq = 1) => {
      reads++;
      return Promise.resolve({ messages: stored.slice(fromSeq - 1), nextSeq: stored.length + 1 });
    },
    onReconnect: (l) => {
      reconnect = l;
      return () => undefined;
    },
  };
  return {
    feed,
    store: (data: Uint8Array) => stored.push({ data }),
    reconnect: () => reconnect(),
    reads: () => reads,
  };
}

describe("RunFeed after a reconnect", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("checks the stored stream again shortly after, for what was lost live and stored late", async () => {
    const b = bus();
    const got: Delivery[] = [];
    const feed = await RunFeed.open(
      b.feed,
      "sea",
      { stored: "stored.s1", live: "live.s1" },
      testLog,
      (d) => got.push(...d),
    );
    b.reconnect();
    await vi.advanceTimersByTimeAsync(0);
    expect(b.reads()).toBe(1);
    // The worker's copies reach the stream only after its resend, a moment after the reconnect.
    b.store(delta(1, "Hel"));
    b.store(delta(2, "lo"));
    await vi.advanceTimersByTimeAsync(250);
    expect(got.map((d) => (d.kind === "delta" ? d.payload.content : d.kind))).toEqual([
      "Hel",
      "lo",
    ]);
    // Two more checks (at 750 and 1,750 ms), then only the quiet stream's rare probe.
    await vi.advanceTimersByTimeAsync(1_500);
    expect(b.reads()).toBe(4);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(b.reads()).toBe(4);
    feed.close();
  });
});
