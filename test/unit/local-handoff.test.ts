import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ContextName } from "../../contracts/index.js";
import type { CommandSource, DeliveredCommand } from "../../src/ports.js";
import { LocalCommandHandoff, type HandoffOutbox } from "../../src/worker/local-handoff.js";

// The rules of a handed-off command's outbox row (its durable copy while it runs here). The
// integration test runs them against Postgres, the relay and JetStream; here, what is asked of
// the row when.
const log = pino({ level: "silent" });
const LEASE = 4_000;
const GRACE = 1_000;

class TestSource implements CommandSource {
  stopped = false;
  handle: ((cmd: DeliveredCommand) => Promise<void>) | null = null;
  async start(handle: (cmd: DeliveredCommand) => Promise<void>): Promise<void> {
    this.handle = handle;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

/** Records what the handoff asks of the outbox. */
class TestOutbox implements HandoffOutbox {
  readonly calls: string[] = [];
  async postpone(_c: ContextName, ids: string[], ms: number): Promise<void> {
    this.calls.push(`postpone ${ids.join(",")} ${ms}`);
  }
  async markPublished(_c: ContextName, ids: string[]): Promise<void> {
    this.calls.push(`published ${ids.join(",")}`);
  }
}

const handed = (messageId: string) => ({
  subject: "sea.command.chat_completion.v1",
  data: new TextEncoder().encode("{}"),
  messageId,
});

async function started(opts: { maxInflight?: number; grace?: number } = {}) {
  const outbox = new TestOutbox();
  const handoff = new LocalCommandHandoff(
    "sea",
    { maxInflight: opts.maxInflight ?? 10, leaseMs: LEASE, dispatchGraceMs: opts.grace ?? GRACE },
    outbox,
    log,
  );
  const inner = new TestSource();
  const runs: { cmd: DeliveredCommand; done: () => void }[] = [];
  const source = handoff.source(inner);
  await source.start((cmd) => new Promise<void>((resolve) => runs.push({ cmd, done: resolve })));
  return { handoff, outbox, inner, runs, source };
}

const turn = () => new Promise((r) => setImmediate(r));

afterEach(() => {
  vi.useRealTimers();
});

describe("a command handed to this process's worker", () => {
  it("is refused before the worker has started, and when the dispatch grace is too short to keep it", async () => {
    const outbox = new TestOutbox();
    const opts = { maxInflight: 10, leaseMs: LEASE, dispatchGraceMs: GRACE };
    expect(new LocalCommandHandoff("sea", opts, outbox, log).hand(handed("m0"))).toBe(false);
    const { handoff } = await started({ grace: 50 });
    expect(handoff.hand(handed("m0"))).toBe(false);
  });

  it("runs at once as a first delivery; its row is marked published once the run acks", async () => {
    const { handoff, outbox, runs } = await started();
    expect(handoff.hand(handed("m1"))).toBe(true);
    expect(runs.map((r) => [r.cmd.messageId, r.cmd.deliveryCount])).toEqual([["m1", 1]]);
    await runs[0]!.cmd.ack();
    await turn();
    expect(outbox.calls).toEqual(["published m1"]);
  });

  it("makes the row due at the retry time when the run naks (the relay publishes it then)", async () => {
    const { handoff, outbox, runs } = await started();
    handoff.hand(handed("m2"));
    runs[0]!.cmd.nak(2_500);
    await turn();
    expect(outbox.calls).toEqual(["postpone m2 2500"]);
  });

  it("keeps the rows of running commands a lease ahead, more often than the grace runs out", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const { handoff, outbox, runs } = await started();
    handoff.hand(handed("a"));
    handoff.hand(handed("b"));
    await vi.advanceTimersByTimeAsync(GRACE / 2);
    expect(outbox.calls).toEqual([`postpone a,b ${LEASE}`]);
    await runs[0]!.cmd.ack();
    await vi.advanceTimersByTimeAsync(GRACE / 2);
    expect(outbox.calls.at(-1)).toBe(`postpone b ${LEASE}`);
    runs[1]!.cmd.nak(0);
    outbox.calls.length = 0;
    await vi.advanceTimersByTimeAsync(GRACE * 5);
    // Nothing runs: no more pushes.
    expect(
      outbox.calls.filter((c) => c.startsWith("postpone") && c.endsWith(String(LEASE))),
    ).toEqual([]);
  });

  it("is refused past maxInflight and when the same command runs here already", async () => {
    const { handoff, runs } = await started({ maxInflight: 1 });
    expect(handoff.hand(handed("m5"))).toBe(true);
    expect(handoff.hand(handed("m6"))).toBe(false);
    await runs[0]!.cmd.ack();
    runs[0]!.done();
    await turn();
    expect(handoff.hand(handed("m6"))).toBe(true);
  });

  it("shares maxInflight with what JetStream delivers: a pulled command waits for room, and takes it", async () => {
    const { handoff, inner, runs } = await started({ maxInflight: 1 });
    expect(handoff.hand(handed("local"))).toBe(true);
    const pulled: DeliveredCommand = { ...runs[0]!.cmd, messageId: "pulled", deliveryCount: 1 };
    const done = inner.handle!(pulled);
    await turn();
    expect(runs.map((r) => r.cmd.messageId)).toEqual(["local"]);
    runs[0]!.done();
    await turn();
    expect(runs.map((r) => r.cmd.messageId)).toEqual(["local", "pulled"]);
    // The pulled one holds the only slot now.
    expect(handoff.hand(handed("next"))).toBe(false);
    runs[1]!.done();
    await done;
    expect(handoff.hand(handed("next"))).toBe(true);
  });

  it("counts the local run in the deliveries of a command it retried", async () => {
    const { handoff, inner, runs } = await started();
    handoff.hand(handed("again"));
    runs[0]!.cmd.nak(0);
    runs[0]!.done();
    await turn();
    void inner.handle!({ ...runs[0]!.cmd, deliveryCount: 1 });
    void inner.handle!({ ...runs[0]!.cmd, messageId: "stranger", deliveryCount: 1 });
    await turn();
    expect(runs.slice(1).map((r) => [r.cmd.messageId, r.cmd.deliveryCount])).toEqual([
      ["again", 2],
      ["stranger", 1],
    ]);
  });

  it("retries a run whose processor threw, and stops only after its runs", async () => {
    const outbox = new TestOutbox();
    const handoff = new LocalCommandHandoff(
      "sea",
      { maxInflight: 10, leaseMs: LEASE, dispatchGraceMs: GRACE },
      outbox,
      log,
    );
    const inner = new TestSource();
    const source = handoff.source(inner);
    let finish!: () => void;
    await source.start(async (cmd) => {
      if (cmd.messageId === "boom") throw new Error("database gone");
      await new Promise<void>((r) => (finish = r));
    });
    handoff.hand(handed("boom"));
    await turn();
    expect(outbox.calls).toEqual(["postpone boom 5000"]);

    handoff.hand(handed("slow"));
    let stopped = false;
    const stopping = source.stop().then(() => (stopped = true));
    await turn();
    expect(stopped).toBe(false);
    expect(handoff.hand(handed("late"))).toBe(false);
    finish();
    await stopping;
    expect(inner.stopped).toBe(true);
  });
});
