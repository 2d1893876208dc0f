import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { GaugeSampler } from "../../src/observability/gauge-sampler.js";
import type { InboxStore } from "../../src/ports.js";
import type { HandlerContext } from "../../src/worker/handler.js";
import { streamWords } from "../../src/worker/handlers/words.js";
import { LeaseKeeper } from "../../src/worker/lease-keeper.js";
import { longestAccepted } from "../helpers/durations.js";
import { testLog } from "../helpers/env.js";

// The timers fed by settings that run inside one component, each with its setting at the longest
// value start-up accepts. Vitest's fake timers fire a delay above 2^31-1 ms after 1 ms, as Node
// does, so a timer that overflows shows here. (The gateway's and handlers' timers:
// test/integration/longest-durations.test.ts.)
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("timers fed by settings do not fire early", () => {
  it("ACK_WAIT_SECS: inbox leases are renewed a third of the lease apart", async () => {
    const leaseMs = loadConfig({ ACK_WAIT_SECS: String(longestAccepted("ACK_WAIT_SECS")) }).worker
      .ackWaitMs;
    const extendLeases = vi.fn(async () => undefined);
    const keeper = new LeaseKeeper({ extendLeases } as unknown as InboxStore, leaseMs, testLog);
    keeper.hold("m1");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(extendLeases).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(Math.floor(leaseMs / 3));
    expect(extendLeases).toHaveBeenCalledTimes(1);
    keeper.close();
  });

  it("METRICS_SAMPLE_MS: gauges are sampled once per interval", async () => {
    const everyMs = loadConfig({ METRICS_SAMPLE_MS: String(longestAccepted("METRICS_SAMPLE_MS")) })
      .observability.sampleMs;
    const count = vi.fn(async () => ({ outbox: 0, inbox: 0 }));
    const sampler = new GaugeSampler([{ context: "sea", database: { count } }], everyMs, testLog);
    sampler.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(count).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(everyMs);
    expect(count).toHaveBeenCalledTimes(2);
    await sampler.stop();
  });

  it("ECHO_DELAY_MS: echo pauses that long between words", async () => {
    const delayMs = loadConfig({
      ECHO_DELAY_MS: String(longestAccepted("ECHO_DELAY_MS")),
    }).echoDelayMs;
    const emit = vi.fn(async () => undefined);
    const ctx = { signal: new AbortController().signal, emit } as unknown as HandlerContext;
    const done = streamWords("one two", ctx, delayMs);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(emit.mock.calls).toEqual([[{ content: "one " }]]);
    await vi.advanceTimersByTimeAsync(delayMs);
    await done;
    expect(emit.mock.calls).toEqual([[{ content: "one " }], [{ content: "two" }]]);
  });
});
