import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgBacklog } from "../../adapters/postgres/backlog-stats.js";
import { metrics } from "../../src/observability/metrics.js";
import { HandlerRegistry, type ChatHandler } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld, eventually } from "../helpers/env.js";
import { readSse } from "../helpers/sse-reader.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

// `up`: a command the gateway commits is handed to the worker of its own process and not
// published; its outbox row is its durable copy, kept from the relays while the run goes on,
// marked published when it is done, made due when it is to be retried.
const world = createTestWorld("handoff");
const echo = echoHandler(5);
const TEXT = "one two three four five six";
const attempts: number[] = [];

/** Fails transiently on its first attempt (before any chunk); the retry answers. */
const once503: ChatHandler = {
  name: "once503",
  sideEffects: "none",
  handle: async (cmd, ctx) => {
    attempts.push(ctx.attempt);
    if (ctx.attempt === 1) throw new Error("upstream connection reset");
    return echo.handle(cmd, ctx);
  },
};
/** Takes longer than the dispatch grace and the relay's poll together. */
const slow = { ...echoHandler(500), name: "slow" };

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem(
    world,
    testCatalog([
      { id: "sea-once", context: "sea", handler: "once503" },
      { id: "sea-slow", context: "sea", handler: "slow" },
    ]),
    { OUTBOX_DISPATCH_GRACE_MS: "1000", RELAY_POLL_MS: "200" },
  );
  const handlers = new HandlerRegistry().register(echo).register(once503).register(slow);
  // The workers run in the gateway's own runtime, as in `sea-gateway up`.
  await system.runtime.startWorker("sea", handlers);
  await system.runtime.startWorker("vibespro", handlers);
});

afterAll(async () => {
  await system?.stop();
  await world.cleanup();
});

const chat = (model: string, content = TEXT) =>
  readSse(`${system.baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${system.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content }] }),
  });

async function handoffs(): Promise<number> {
  const m = await metrics.registry.getSingleMetric("command_handoffs_total")!.get();
  return m.values.find((v) => v.labels.context === "sea")?.value ?? 0;
}

/** Commands ever published on the sea command stream. */
async function published(): Promise<number> {
  const jsm = await system.runtime.nc.jetstreamManager();
  return (await jsm.streams.info(system.runtime.subjects.commandStream("sea"))).state.last_seq;
}

/** The stream's command: its inbox claims, and whether its outbox row is still unpublished. */
async function command(streamId: string) {
  const r = await system.runtime.pools.sea.query<{ claims: number; unpublished: boolean }>(
    `SELECT i.process_attempts AS claims,
            EXISTS (SELECT 1 FROM outbox_unpublished u WHERE u.id = o.id) AS unpublished
       FROM outbox_events o JOIN inbox_messages i ON i.message_id = o.id::text
      WHERE o.aggregate_id = $1 AND o.event_type = 'chat_completion'`,
    [streamId],
  );
  return r.rows[0]!;
}

describe("a command handed to the worker of its own process", () => {
  it("runs at commit without being published: one claim, one answer, its row marked published", async () => {
    const [before, seq] = [await handoffs(), await published()];
    const r = await chat("sea");
    expect(r.status).toBe(200);
    expect(r.text).toBe(TEXT);
    expect(await handoffs()).toBe(before + 1);
    const streamId = r.headers.get("x-stream-id")!;
    const c = await eventually(async () => {
      const x = await command(streamId);
      return x.unpublished ? null : x;
    });
    expect(c.claims).toBe(1);
    expect(await published()).toBe(seq);
  });

  it("is kept from the relays while it runs longer than the dispatch grace, and is no backlog", async () => {
    const seq = await published();
    // 6 words 500 ms apart: 3 s, three times the grace, fifteen relay polls.
    const reading = chat("sea-slow");
    await new Promise((res) => setTimeout(res, 1_800));
    const held = await system.runtime.pools.sea.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outbox_unpublished WHERE publish_attempts = 0",
    );
    expect(held.rows[0]!.n).toBe(1);
    // The gauge counts what relays have to publish; a command running here is not late.
    expect((await new PgBacklog(system.runtime.pools.sea, true).count()).outbox).toBe(0);
    const r = await reading;
    expect(r.text).toBe(TEXT);
    expect((await command(r.headers.get("x-stream-id")!)).claims).toBe(1);
    expect(await published()).toBe(seq);
  });

  it("is retried through JetStream when the run fails transiently: the relay publishes it at its retry time", async () => {
    attempts.length = 0;
    const seq = await published();
    const r = await chat("sea-once");
    expect(r.text).toBe(TEXT);
    // The handed-off run was attempt 1; JetStream delivered the retry, counted after it (3, not
    // 2, when a lease renewal in flight re-took the lease the retry had released: that delivery
    // finds it busy and waits one lease).
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toBe(1);
    expect(attempts[1]).toBeGreaterThanOrEqual(2);
    expect((await command(r.headers.get("x-stream-id")!)).claims).toBe(2);
    expect(await published()).toBe(seq + 1);
  });
});
