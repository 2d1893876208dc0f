import { afterEach, describe, expect, it, vi } from "vitest";
import { INTEREST_RECHECK_MS, LocalLiveBus } from "../../src/local-live.js";
import type { LiveInterest, LivePublisher, RawResult, ResultFeed } from "../../src/ports.js";
import { testLog } from "../helpers/env.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (m: RawResult) => new TextDecoder().decode(m.data);

/** A bus whose subscriptions the test sees: what is open, and what it delivers to them. */
function fakeBus() {
  const open = new Map<string, (m: RawResult) => void>();
  const published: string[] = [];
  let subscribes = 0;
  let failNext = false;
  const feed: ResultFeed = {
    subscribe: async (subject, onMessage) => {
      subscribes++;
      await Promise.resolve();
      if (failNext) {
        failNext = false;
        throw new Error("bus unreachable");
      }
      open.set(subject, onMessage);
      return { close: () => void open.delete(subject) };
    },
    replay: () => Promise.resolve({ messages: [], nextSeq: 1 }),
    onReconnect: () => () => undefined,
  };
  const live: LivePublisher = {
    publishLive: (subject, data) => {
      published.push(`${subject}:${new TextDecoder().decode(data)}`);
      open.get(subject)?.({ data });
    },
  };
  return {
    feed,
    live,
    published,
    isOpen: (subject: string) => open.has(subject),
    subscribes: () => subscribes,
    failNextSubscribe: () => (failNext = true),
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("LocalLiveBus", () => {
  it("hands a worker's live message to a reader of its own process, and to the bus", async () => {
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog);
    const got: string[] = [];
    await local.results(bus.feed).subscribe("live.s1", (m) => got.push(text(m)));
    local.publisher(bus.live).publishLive("live.s1", bytes("d1"));
    // Without a local producer the reader is still subscribed on the bus: a copy comes both
    // ways (the reader drops repeats); readers elsewhere get theirs from the bus.
    expect(got).toEqual(["d1", "d1"]);
    expect(bus.published).toEqual(["live.s1:d1"]);
  });

  it("drops the reader's bus subscription while a worker here produces, and reopens it after", async () => {
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog);
    const got: string[] = [];
    let missed = 0;
    await local.results(bus.feed).subscribe(
      "live.s1",
      (m) => got.push(text(m)),
      () => missed++,
    );
    expect(bus.isOpen("live.s1")).toBe(true);
    const publisher = local.publisher(bus.live);
    const producer = publisher.produce!("live.s1");
    await settle();
    expect(bus.isOpen("live.s1")).toBe(false);
    publisher.publishLive("live.s1", bytes("d1"));
    publisher.publishLive("live.s1", bytes("d2"));
    // Once each, in the order sent; still published for readers on other instances.
    expect(got).toEqual(["d1", "d2"]);
    expect(bus.published).toEqual(["live.s1:d1", "live.s1:d2"]);
    expect(missed).toBe(0);
    producer.stop();
    await settle();
    // A retry may run in another process: the reader listens on the bus again and reads the
    // stored stream for what it may have missed in between.
    expect(bus.isOpen("live.s1")).toBe(true);
    expect(missed).toBe(1);
    producer.stop();
    await settle();
    expect(missed).toBe(1);
  });

  it("does not subscribe a reader on the bus when a worker here already produces", async () => {
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog);
    const producer = local.publisher(bus.live).produce!("live.s1");
    const got: string[] = [];
    const sub = await local.results(bus.feed).subscribe("live.s1", (m) => got.push(text(m)));
    expect(bus.subscribes()).toBe(0);
    local.publisher(bus.live).publishLive("live.s1", bytes("d1"));
    expect(got).toEqual(["d1"]);
    sub.close();
    producer.stop();
    await settle();
    expect(bus.isOpen("live.s1")).toBe(false);
  });

  it("counts producers: the subject is produced until the last one stops", async () => {
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog);
    await local.results(bus.feed).subscribe("live.s1", () => undefined);
    const p = local.publisher(bus.live);
    const a = p.produce!("live.s1");
    const b = p.produce!("live.s1");
    a.stop();
    await settle();
    expect(local.isProduced("live.s1")).toBe(true);
    expect(bus.isOpen("live.s1")).toBe(false);
    b.stop();
    await settle();
    expect(local.isProduced("live.s1")).toBe(false);
    expect(bus.isOpen("live.s1")).toBe(true);
  });

  it("closes a bus subscription that opens after its reader closed", async () => {
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog);
    const p = local.publisher(bus.live);
    const producer = p.produce!("live.s1");
    const sub = await local.results(bus.feed).subscribe("live.s1", () => undefined);
    producer.stop(); // the reader starts subscribing on the bus again…
    sub.close(); // …and closes before that subscription is open
    await settle();
    await settle();
    expect(bus.isOpen("live.s1")).toBe(false);
  });

  it("a producer that starts while the first subscribe is under way leaves no bus subscription", async () => {
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog);
    const opening = local.results(bus.feed).subscribe("live.s1", () => undefined);
    const producer = local.publisher(bus.live).produce!("live.s1");
    await opening;
    await settle();
    expect(bus.isOpen("live.s1")).toBe(false);
    producer.stop();
    await settle();
    expect(bus.isOpen("live.s1")).toBe(true);
  });

  it("a first subscribe that fails fails the caller and leaves no local reader", async () => {
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog);
    bus.failNextSubscribe();
    const got: string[] = [];
    await expect(
      local.results(bus.feed).subscribe("live.s1", (m) => got.push(text(m))),
    ).rejects.toThrow("bus unreachable");
    local.publisher(bus.live).publishLive("live.s1", bytes("d1"));
    expect(got).toEqual([]);
  });

  it("a later subscribe that fails sends the reader to the stored stream", async () => {
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog);
    let missed = 0;
    await local.results(bus.feed).subscribe(
      "live.s1",
      () => undefined,
      () => missed++,
    );
    const producer = local.publisher(bus.live).produce!("live.s1");
    await settle();
    bus.failNextSubscribe();
    producer.stop();
    await settle();
    expect(bus.isOpen("live.s1")).toBe(false);
    expect(missed).toBe(1);
  });

  it("a reader that throws does not stop the worker or the other readers", async () => {
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog);
    const results = local.results(bus.feed);
    const got: string[] = [];
    const producer = local.publisher(bus.live).produce!("live.s1");
    await results.subscribe("live.s1", () => {
      throw new Error("reader broke");
    });
    await results.subscribe("live.s1", (m) => got.push(text(m)));
    expect(() => local.publisher(bus.live).publishLive("live.s1", bytes("d1"))).not.toThrow();
    expect(got).toEqual(["d1"]);
    expect(bus.published).toEqual(["live.s1:d1"]);
    producer.stop();
  });
});

/** An answer to "does anyone else read this?" that the test sets, and how often it was asked. */
function interest(initial: boolean | "fail") {
  let answer = initial;
  let asked = 0;
  const i: LiveInterest = {
    othersListen: () => {
      asked++;
      return answer === "fail" ? Promise.reject(new Error("closed")) : Promise.resolve(answer);
    },
  };
  return { i, set: (a: boolean) => (answer = a), asked: () => asked };
}

describe("LocalLiveBus, while nobody else reads", () => {
  afterEach(() => vi.useRealTimers());

  async function producing(others: ReturnType<typeof interest>) {
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog, others.i);
    const got: string[] = [];
    await local.results(bus.feed).subscribe("live.s1", (m) => got.push(text(m)));
    const producer = local.publisher(bus.live).produce!("live.s1");
    await Promise.resolve();
    return { bus, local, got, producer };
  }

  it("sends a producer's messages only to the readers here", async () => {
    const others = interest(false);
    const { bus, got, producer } = await producing(others);
    producer.publish(bytes("d1"));
    producer.publish(bytes("d2"));
    expect(got).toEqual(["d1", "d2"]);
    expect(bus.published).toEqual([]);
    producer.stop();
  });

  it("asks again, and once someone else reads, sends every later message on the bus too", async () => {
    vi.useFakeTimers();
    const others = interest(false);
    const { bus, got, producer } = await producing(others);
    producer.publish(bytes("d1"));
    expect(others.asked()).toBe(1);
    others.set(true);
    await vi.advanceTimersByTimeAsync(INTEREST_RECHECK_MS);
    expect(others.asked()).toBe(2);
    producer.publish(bytes("d2"));
    others.set(false);
    await vi.advanceTimersByTimeAsync(INTEREST_RECHECK_MS * 4);
    // Sticky: no more questions, and the bus keeps getting everything.
    expect(others.asked()).toBe(2);
    producer.publish(bytes("d3"));
    expect(got).toEqual(["d1", "d2", "d3"]);
    expect(bus.published).toEqual(["live.s1:d2", "live.s1:d3"]);
    producer.stop();
  });

  it("sends on the bus while the answer is not in, and when the question fails", async () => {
    const others = interest("fail");
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog, others.i);
    await local.results(bus.feed).subscribe("live.s1", () => undefined);
    const producer = local.publisher(bus.live).produce!("live.s1");
    producer.publish(bytes("d1"));
    await Promise.resolve();
    await Promise.resolve();
    producer.publish(bytes("d2"));
    expect(bus.published).toEqual(["live.s1:d1", "live.s1:d2"]);
    producer.stop();
  });

  it("asks nothing for a stream nobody reads here (it stays on the bus)", async () => {
    const others = interest(false);
    const bus = fakeBus();
    const local = new LocalLiveBus(testLog, others.i);
    const producer = local.publisher(bus.live).produce!("live.s1");
    await Promise.resolve();
    producer.publish(bytes("d1"));
    expect(others.asked()).toBe(0);
    expect(bus.published).toEqual(["live.s1:d1"]);
    producer.stop();
  });

  it("a stopped producer leaves no timer, and what it still sends goes on the bus", async () => {
    vi.useFakeTimers();
    const others = interest(false);
    const { bus, producer } = await producing(others);
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    producer.stop();
    expect(vi.getTimerCount()).toBe(0);
    producer.publish(bytes("late"));
    expect(bus.published).toEqual(["live.s1:late"]);
  });
});
