import {
  ConsumerDebugEvents,
  ConsumerEvents,
  type ConsumerStatus,
  type JetStreamClient,
  type JsMsg,
} from "nats";
import { describe, expect, it } from "vitest";
import { subjectSpace } from "../../contracts/index.js";
import {
  JetStreamCommandSource,
  PULL_EXPIRES_MS,
  PULL_HEARTBEAT_MS,
  type RepullTrigger,
} from "../../adapters/nats/command-source.js";
import { AsyncQueue } from "../../src/async-queue.js";
import { testLog } from "../helpers/env.js";

/** One fake `consume()`: what the test pushes comes out in order; stop ends it after those. */
class FakePull {
  readonly msgs = new AsyncQueue<JsMsg>();
  readonly statuses = new AsyncQueue<ConsumerStatus>();
  stopped = false;

  constructor(readonly opts: Record<string, unknown>) {}

  stop(): void {
    this.stopped = true;
    this.msgs.end();
    this.statuses.end();
  }

  async status(): Promise<AsyncIterable<ConsumerStatus>> {
    return this.statuses;
  }

  [Symbol.asyncIterator](): AsyncIterator<JsMsg> {
    return this.msgs;
  }
}

/** A message that records how it was settled. */
function fakeMsg(id: string, settled: string[]): JsMsg {
  return {
    subject: `cmd.${id}`,
    data: new Uint8Array(),
    headers: undefined,
    info: { deliveryCount: 1 },
    ack: () => settled.push(`ack ${id}`),
    nak: () => settled.push(`nak ${id}`),
    working: () => undefined,
  } as unknown as JsMsg;
}

function fakeJs(pulls: FakePull[]): JetStreamClient {
  return {
    consumers: {
      get: async () => ({
        consume: async (opts: Record<string, unknown>) => {
          const p = new FakePull(opts);
          pulls.push(p);
          return p;
        },
      }),
    },
  } as unknown as JetStreamClient;
}

const until = async (cond: () => boolean, tries = 200) => {
  for (let i = 0; i < tries && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

function source(pulls: FakePull[], triggers: RepullTrigger[] = []) {
  return new JetStreamCommandSource(
    fakeJs(pulls),
    subjectSpace("pull"),
    "sea",
    { batchSize: 50, maxInflight: 25, heartbeatMs: 1_000, repullTriggers: triggers },
    testLog,
  );
}

/**
 * A worker's pull requests are not replicated: after a cluster's consumer leader dies only a
 * new pull reaches the new leader. The source ends its pull and starts another when told the
 * leader changed (a trigger) or when the pull's heartbeats stop, and handles what the old pull
 * had already brought exactly once.
 */
describe("the command source's pulls", () => {
  it("expire within a few seconds and beat faster than the library's default", async () => {
    const pulls: FakePull[] = [];
    const s = source(pulls);
    await s.start(async () => undefined);
    await s.stop();
    expect(pulls[0]!.opts.max_messages).toBe(25);
    expect(pulls[0]!.opts.expires).toBe(PULL_EXPIRES_MS);
    expect(PULL_EXPIRES_MS).toBeGreaterThanOrEqual(1_000); // the library's lower bound
    expect(PULL_EXPIRES_MS).toBeLessThanOrEqual(5_000);
    // The library's default heartbeat is half the expiry; the server wants at most that.
    expect(pulls[0]!.opts.idle_heartbeat).toBe(PULL_HEARTBEAT_MS);
    expect(PULL_HEARTBEAT_MS).toBeLessThan(PULL_EXPIRES_MS / 2);
  });

  it("re-pulls when a trigger says so, handling what the old pull held exactly once", async () => {
    const pulls: FakePull[] = [];
    let fire: ((reason: string) => void) | undefined;
    let unsubscribed = false;
    const s = source(pulls, [
      (repull) => {
        fire = repull;
        return () => void (unsubscribed = true);
      },
    ]);
    const handled: string[] = [];
    const settled: string[] = [];
    await s.start(async (cmd) => {
      handled.push(cmd.subject);
      await cmd.ack();
    });
    pulls[0]!.msgs.push(fakeMsg("a", settled));
    pulls[0]!.msgs.push(fakeMsg("b", settled));
    fire!("consumer leader elected: n2");
    await until(() => pulls.length === 2);
    expect(pulls[0]!.stopped).toBe(true);
    pulls[1]!.msgs.push(fakeMsg("c", settled));
    await until(() => handled.length === 3);
    await s.stop();
    expect(handled).toEqual(["cmd.a", "cmd.b", "cmd.c"]);
    expect(settled).toEqual(["ack a", "ack b", "ack c"]);
    expect(s.pulls).toBe(2);
    expect(unsubscribed).toBe(true);
  });

  it("re-pulls when the pull's heartbeats are missed, not on routine status events", async () => {
    const pulls: FakePull[] = [];
    const s = source(pulls);
    await s.start(async () => undefined);
    pulls[0]!.statuses.push({ type: ConsumerDebugEvents.Next, data: {} });
    pulls[0]!.statuses.push({ type: ConsumerDebugEvents.Discard, data: {} });
    pulls[0]!.statuses.push({ type: ConsumerEvents.NoResponders, data: "503" });
    await new Promise((r) => setTimeout(r, 20));
    expect(pulls).toHaveLength(1);
    pulls[0]!.statuses.push({ type: ConsumerEvents.HeartbeatsMissed, data: 2 });
    await until(() => pulls.length === 2);
    await s.stop();
    expect(pulls[1]!.stopped).toBe(true);
  });

  it("makes one re-pull of triggers that fire before it is made, and another after", async () => {
    const pulls: FakePull[] = [];
    let fire: ((reason: string) => void) | undefined;
    const s = source(pulls, [(repull) => ((fire = repull), () => undefined)]);
    await s.start(async () => undefined);
    fire!("consumer leader elected: n2");
    fire!("reconnected");
    await until(() => pulls.length === 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(pulls).toHaveLength(2);
    fire!("consumer leader elected: n3");
    await until(() => pulls.length === 3);
    await s.stop();
  });

  it("replaces a pull that ended on its own after a pause, so it cannot spin", async () => {
    const pulls: FakePull[] = [];
    const s = source(pulls);
    await s.start(async () => undefined);
    // The library ends the iterator without being asked (it gave up on the pull).
    pulls[0]!.msgs.end();
    await new Promise((r) => setTimeout(r, 50));
    expect(pulls).toHaveLength(1); // no new pull at once, and no loop of them
    await until(() => pulls.length === 2, 600); // one after the pause
    await s.stop();
    expect(pulls[1]!.stopped).toBe(true);
  });
});
