import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RawResult, ResultFeed } from "../../src/ports.js";
import { RunFeed } from "../../src/gateway/runs/run-feed.js";
import type { Delivery } from "../../src/gateway/runs/attempt-sequencer.js";
import { testLog } from "../helpers/env.js";

const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const delta = (seq: number, content: string) =>
  encode({ event_type: "chat_delta", seq, attempt: 1, payload: { content } });

/** A bus whose live messages, stored stream and reconnects the test controls. */
function bus() {
  const stored: RawResult[] = [];
  let reconnect = () => {};
  let live: (m: RawResult) => void = () => {};
  let reads = 0;
  const feed: ResultFeed = {
    subscribe: (_subject, onMessage) => {
      live = onMessage;
      return Promise.resolve({ close: () => undefined });
    },
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
    live: (data: Uint8Array) => live({ data }),
    reads: () => reads,
  };
}

/** A feed of stream s1 on a fresh bus, and what it delivered. */
async function openFeed() {
  const b = bus();
  const got: Delivery[] = [];
  const feed = await RunFeed.open(
    b.feed,
    "sea",
    { stored: "stored.s1", live: "live.s1" },
    testLog,
    (d) => got.push(...d),
  );
  return { b, got, feed };
}

describe("RunFeed after a reconnect", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("checks the stored stream again shortly after, for what was lost live and stored late", async () => {
    const { b, got, feed } = await openFeed();
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

  it("checks a gap whose checks had backed off at the short cadence again", async () => {
    const { b, got, feed } = await openFeed();
    const contents = () => got.map((d) => (d.kind === "delta" ? d.payload.content : d.kind));
    b.live(delta(1, "a"));
    b.live(delta(3, "c")); // 2 was lost live, and its stream cannot store it (no leader)
    await vi.advanceTimersByTimeAsync(6_000); // the gap's checks back off to 2 s
    expect(contents()).toEqual(["a"]);
    b.reconnect(); // the event stream has a new leader
    await vi.advanceTimersByTimeAsync(300);
    b.store(delta(1, "a"));
    b.store(delta(2, "b")); // the worker's resend lands
    await vi.advanceTimersByTimeAsync(500);
    expect(contents()).toEqual(["a", "b", "c"]);
    feed.close();
  });
});
