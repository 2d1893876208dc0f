import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startEmbeddedPostgres,
  type EmbeddedPostgresServer,
} from "../../adapters/embedded/postgres.js";
import { withDatabase } from "../../adapters/postgres/pool.js";
import { loadConfig } from "../../src/config.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld, SYSTEM, TEST_SECRET, testLog, type TestWorld } from "../helpers/env.js";
import { freePort } from "../helpers/outbox.js";
import { readSse } from "../helpers/sse-reader.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

// A private PostgreSQL that the test restarts: requests that arrive while it is down wait and go
// through when it is back (never the shared server: it is stopped by this test only).
let dataDir: string;
let port: number;
let pg: EmbeddedPostgresServer;
let system: TestSystem;
let world: TestWorld;

async function startPostgres(): Promise<void> {
  pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, "pg"), port, log: testLog });
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "sea-outage-"));
  port = await freePort();
  await startPostgres();
  const shared = createTestWorld("outage");
  const databaseUrls = {
    sea: withDatabase(pg.baseUrl, "sea_db"),
    vibespro: withDatabase(pg.baseUrl, "vibespro_db"),
  };
  const env = {
    ...shared.env,
    SEA_DATABASE_URL: databaseUrls.sea,
    VIBESPRO_DATABASE_URL: databaseUrls.vibespro,
    SSE_KEEPALIVE_MS: "500",
  };
  world = {
    ...shared,
    databaseUrls,
    env,
    config: (extra = {}) => loadConfig({ ...env, ...extra }),
    infra: () => ({
      natsUrl: SYSTEM.nats,
      databaseUrls,
      jwtSecret: TEST_SECRET,
      development: false,
      stop: async () => undefined,
    }),
  };
  system = await startTestSystem(world, testCatalog(), env);
  await system.startWorkers(new HandlerRegistry().register(echoHandler()));
}, 120_000);

afterAll(async () => {
  await system?.stop();
  await pg?.stop();
  await world?.cleanup().catch(() => undefined);
  await rm(dataDir, { recursive: true, force: true });
});

const post = (content: string) =>
  readSse(`${system.baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${system.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "sea", stream: true, messages: [{ role: "user", content }] }),
  });

describe("a short Postgres outage", () => {
  it("keeps new requests waiting, with keep-alives, until it is back; then they complete", async () => {
    expect((await post("before the outage")).text).toBe("before the outage");
    await pg.stop();
    const during = Promise.all(
      ["one while down", "two while down", "three while down"].map((t) => post(t)),
    );
    await new Promise((r) => setTimeout(r, 2_500));
    await startPostgres();
    const results = await during;
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.map((r) => r.text)).toEqual([
      "one while down",
      "two while down",
      "three while down",
    ]);
    // They waited longer than a keep-alive interval: the stream was opened and kept alive.
    expect(results.every((r) => r.body.startsWith(": keep-alive"))).toBe(true);
    expect(results.every((r) => r.headers.get("x-stream-id"))).toBe(true);
  }, 60_000);
});
