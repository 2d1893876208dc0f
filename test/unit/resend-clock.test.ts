import type { JetStreamClient } from "nats";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  JetStreamPublisher,
  RESEND_EVERY_MS,
  RESEND_WINDOW_MS,
  ResendClock,
} from "../../adapters/nats/publisher.js";

/** A connection whose reconnects the test triggers. */
function connection() {
  const listeners: Array<() => void> = [];
  return {
    onReconnect: (l: () => void) => void listeners.push(l),
    reconnect: () => listeners.forEach((l) => l()),
  };
}

/** A publish the test settles by hand. */
function pending() {
  let ack!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    ack = resolve;
    fail = reject;
  });
  return { promise, ack, fail };
}

/** What became of `p` so far: `{}` while it is pending. */
const outcome = (p: Promise<unknown>) => {
  const seen: { settled?: true; value?: unknown; error?: unknown } = {};
  p.then(
    (v) => Object.assign(seen, { settled: true, value: v }),
    (e: unknown) => Object.assign(seen, { settled: true, error: e }),
  );
  return seen;
};

describe("ResendClock", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("leaves a publish alone on a healthy connection, however long its ack takes", async () => {
    const conn = connection();
    const clock = new ResendClock(conn.onReconnect);
    const p = pending();
    const seen = outcome(clock.race(p.promise));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(seen.settled).toBeUndefined();
    p.ack();
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.value).toBe("acked");
  });

  it("asks for a pending publish to be sent again shortly after the connection comes back", async () => {
    const conn = connection();
    const clock = new ResendClock(conn.onReconnect);
    const seen = outcome(clock.race(pending().promise));
    await vi.advanceTimersByTimeAsync(5_000);
    conn.reconnect();
    await vi.advanceTimersByTimeAsync(RESEND_EVERY_MS - 1);
    expect(seen.settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(seen.value).toBe("resend");
  });

  it("keeps resending publishes made soon after a reconnect, and stops once the window has passed", async () => {
    const conn = connection();
    const clock = new ResendClock(conn.onReconnect);
    conn.reconnect();
    const soon = outcome(clock.race(pending().promise));
    await vi.advanceTimersByTimeAsync(RESEND_EVERY_MS);
    expect(soon.value).toBe("resend");
    await vi.advanceTimersByTimeAsync(RESEND_WINDOW_MS);
    const later = outcome(clock.race(pending().promise));
    await vi.advanceTimersByTimeAsync(10 * RESEND_EVERY_MS);
    expect(later.settled).toBeUndefined();
  });

  it("passes a failed publish's error on", async () => {
    const clock = new ResendClock(connection().onReconnect);
    const p = pending();
    const seen = outcome(clock.race(p.promise));
    p.fail(Object.assign(new Error("bad"), { code: "400" }));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.error).toMatchObject({ code: "400" });
  });
});

describe("JetStreamPublisher with reconnect resends", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends a publish pending at a reconnect again with the same message id, done at the first ack", async () => {
    const conn = connection();
    const attempts: Array<{ msgID: string; p: ReturnType<typeof pending> }> = [];
    const js = {
      publish: (_subject: string, _data: Uint8Array, opts: { msgID: string }) => {
        const p = pending();
        attempts.push({ msgID: opts.msgID, p });
        return p.promise;
      },
    } as unknown as JetStreamClient;
    const publisher = new JetStreamPublisher(js, 2_000, {
      retryForMs: 30_000,
      onReconnect: conn.onReconnect,
    });
    const headers = { correlationId: "c", causationId: null, tenantId: "acme" };
    const seen = outcome(publisher.publish("s", new Uint8Array(), "m1", headers));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(attempts).toHaveLength(1);
    conn.reconnect();
    await vi.advanceTimersByTimeAsync(RESEND_EVERY_MS);
    expect(attempts.map((a) => a.msgID)).toEqual(["m1", "m1"]);
    attempts[1]!.p.ack();
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toStrictEqual({ settled: true, value: undefined });
    // The first copy's late timeout changes nothing.
    attempts[0]!.p.fail(Object.assign(new Error("timeout"), { code: "TIMEOUT" }));
    await vi.advanceTimersByTimeAsync(RESEND_WINDOW_MS);
    expect(attempts).toHaveLength(2);
  });

  it("keeps retrying an unreachable stream for a whole window after the bus comes back", async () => {
    const conn = connection();
    let attempts = 0;
    let reachable = false;
    const js = {
      publish: async () => {
        attempts++;
        if (!reachable) throw Object.assign(new Error("no responders"), { code: "503" });
      },
    } as unknown as JetStreamClient;
    const publisher = new JetStreamPublisher(js, 2_000, {
      retryForMs: RESEND_WINDOW_MS,
      onReconnect: conn.onReconnect,
    });
    const headers = { correlationId: "c", causationId: null, tenantId: "acme" };
    const seen = outcome(publisher.publish("s", new Uint8Array(), "m1", headers));
    await vi.advanceTimersByTimeAsync(RESEND_WINDOW_MS - 500);
    conn.reconnect(); // e.g. the stream's new leader was elected; it answers 503 a while longer
    await vi.advanceTimersByTimeAsync(RESEND_WINDOW_MS - 500);
    expect(seen).toStrictEqual({}); // past its first window, still trying
    reachable = true;
    await vi.advanceTimersByTimeAsync(RESEND_EVERY_MS * 2);
    expect(seen).toStrictEqual({ settled: true, value: undefined });
    expect(attempts).toBeGreaterThan(2);
  });
});
