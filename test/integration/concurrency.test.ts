import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld } from "../helpers/env.js";
import { readSse } from "../helpers/sse-reader.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

// Handler concurrency is bounded by memory, not by database connections: far more streams run
// at once than each process has connections (claims and completions are batched).
const world = createTestWorld("concurrency");
let system: TestSystem;
const POOL = 4;
const STREAMS = 300;
const echo = echoHandler(150);
/** Echo, slowly, counting how many of its runs overlap. */
let inHandler = 0;
let mostInHandler = 0;
const slow = {
  ...echo,
  name: "slow",
  handle: async (...args: Parameters<typeof echo.handle>) => {
    mostInHandler = Math.max(mostInHandler, ++inHandler);
    try {
      return await echo.handle(...args);
    } finally {
      inHandler--;
    }
  },
};

beforeAll(async () => {
  const env = { PG_POOL_SIZE: String(POOL), MAX_INFLIGHT: "1000" };
  system = await startTestSystem(
    world,
    testCatalog([{ id: "sea-slow", context: "sea", handler: "slow" }]),
    env,
  );
  await system.startWorkers(new HandlerRegistry().register(echoHandler()).register(slow));
});

afterAll(async () => {
  await system?.stop();
  await world.cleanup();
});

describe("many slow streams on a small pool", () => {
  it(`runs ${STREAMS} concurrent streams on ${POOL} connections per database`, async () => {
    const results = await Promise.all(
      Array.from({ length: STREAMS }, async (_, i) => {
        const text = `stream ${i} says one two three four`;
        const r = await readSse(`${system.baseURL}/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${system.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({
            model: "sea-slow",
            stream: true,
            messages: [{ role: "user", content: text }],
          }),
        });
        return { ok: r.status === 200 && r.text === text };
      }),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const inbox = await system.runtime.pools.sea.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM inbox_messages WHERE processed_at IS NOT NULL",
    );
    expect(inbox.rows[0]!.n).toBe(STREAMS);
    // The handlers really ran side by side, far more of them than there are connections.
    expect(mostInHandler).toBeGreaterThan(POOL * 10);
    const connections = await system.runtime.pools.sea.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()",
    );
    // Gateway, relay and worker runtimes: a fixed pool each, whatever the concurrency.
    expect(connections.rows[0]!.n).toBeLessThanOrEqual(3 * (POOL + Math.ceil(POOL / 2)) + 2);
  }, 120_000);
});
