import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpHandler } from "../../adapters/handlers/http-handler.js";
import { loadConfig } from "../../src/config.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { spawnCli, stopChild, waitReady } from "../helpers/cli.js";
import { createTestWorld, eventually, SYSTEM } from "../helpers/env.js";
import { HoldHandlerService } from "../helpers/hold-handler-service.js";
import { scrape, valueOf } from "../helpers/metrics.js";
import { freePort } from "../helpers/outbox.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

/**
 * A relay and a worker as real processes, each with its health and metrics listener
 * (METRICS_PORT): readiness turns false the moment they are asked to stop and stays so while
 * they finish; a worker that will not finish a command in the grace period hands it back (nak,
 * inbox lease released) and another worker completes it. The gateway runs in this process.
 */
const world = createTestWorld("roles");
let sys: TestSystem;
let handler: HoldHandlerService;
let relay: ChildProcess;
let worker: ChildProcess;
let relayUrl: string;
let workerUrl: string;

beforeAll(async () => {
  handler = await new HoldHandlerService().start();
  sys = await startTestSystem(
    world,
    testCatalog([{ id: "held", context: "sea", handler: "http" }]),
    { RELAY_POLL_MS: "100" },
  );
  const [relayPort, workerPort] = [await freePort(), await freePort()];
  relayUrl = `http://127.0.0.1:${relayPort}`;
  workerUrl = `http://127.0.0.1:${workerPort}`;
  const env = { ...world.env, LOG_LEVEL: "warn", METRICS_SAMPLE_MS: "200" };
  relay = spawnCli(["relay"], { ...env, METRICS_PORT: String(relayPort), RELAY_POLL_MS: "100" });
  worker = spawnCli(["worker", "--context", "sea"], {
    ...env,
    METRICS_PORT: String(workerPort),
    SEA_HANDLER_URL: handler.url,
    SHUTDOWN_GRACE_MS: "1500",
  });
  await Promise.all([
    waitReady(`${relayUrl}/health/ready`, relay),
    waitReady(`${workerUrl}/health/ready`, worker),
  ]);
});

afterAll(async () => {
  for (const c of [relay, worker]) if (c) await stopChild(c);
  await sys?.stop();
  await handler?.stop();
  await world.cleanup();
});

/** Polls a readiness URL until it answers 503; returns the body. */
const notReady = (url: string) =>
  eventually(
    async () => {
      const r = await fetch(`${url}/health/ready`);
      return r.status === 503 ? ((await r.json()) as unknown) : null;
    },
    10_000,
    `${url} to turn not ready`,
  );

describe("relay and worker processes", () => {
  it("serve their own metrics and readiness checks", async () => {
    const ready = (await (await fetch(`${workerUrl}/health/ready`)).json()) as {
      checks: { name: string; ok: boolean }[];
    };
    expect(ready.checks.map((c) => [c.name, c.ok])).toEqual([
      ["postgres:sea", true],
      ["nats", true],
      ["streams and consumer", true],
    ]);
    const m = await eventually(async () => {
      const s = await scrape(workerUrl);
      return valueOf(s, "jetstream_consumer_num_pending", { context: "sea" }) === 0 &&
        s.some((x) => x.name === "inbox_unprocessed_count" && x.labels.context === "sea")
        ? s
        : null;
    });
    expect(valueOf(m, "process_resident_memory_bytes", { role: "worker" })).toBeGreaterThan(0);
    // A worker samples its own context only.
    expect(m.some((x) => x.labels.context === "vibespro")).toBe(false);
    const r = await scrape(relayUrl);
    expect(r.some((x) => x.name === "outbox_unpublished_count")).toBe(true);
    expect(valueOf(r, "process_resident_memory_bytes", { role: "relay" })).toBeGreaterThan(0);
  });

  it("a worker asked to stop is not ready at once, hands back the command it cannot finish, and another worker completes it", async () => {
    const started = await fetch(`${sys.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${sys.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "held",
        background: true,
        messages: [{ role: "user", content: "hold once, then answer" }],
      }),
    });
    expect(started.status).toBe(202);
    const streamId = started.headers.get("x-stream-id")!;
    await eventually(() => handler.held === 1, 10_000, "the worker process to run the command");
    // The second worker, in this process, competes on the same consumer.
    await sys.startWorkers(
      new HandlerRegistry().register(
        httpHandler({ url: handler.url, timeoutMs: loadConfig({}).handlerTimeoutMs }),
      ),
      ["sea"],
    );

    const exited = once(worker, "exit");
    worker.kill("SIGTERM");
    expect(await notReady(workerUrl)).toEqual({ status: "stopping", checks: [] });
    expect(worker.exitCode).toBeNull();
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    // It gave up on the call after SHUTDOWN_GRACE_MS ...
    expect(handler.calls[0]!.aborted).toBe(true);

    // ... and released the command at once (nak + inbox lease freed, the reason recorded):
    // the other worker ran it again and completed it.
    const status = await eventually(
      async () => {
        const r = await fetch(`${sys.baseURL}/chat/completions/${streamId}`, {
          headers: { authorization: `Bearer ${sys.apiKey}` },
        });
        const s = (await r.json()) as {
          status: string;
          choices: { message: { content: string } }[];
        };
        return s.status === "completed" ? s : null;
      },
      15_000,
      "the other worker to complete the stream",
    );
    expect(status.choices[0]!.message.content).toBe("hold once, then answer");
    const inbox = await sys.runtime.pools.sea.query<{ attempts: number; error: string }>(
      `SELECT process_attempts AS attempts, last_error AS error FROM inbox_messages
        WHERE event_type = 'chat_completion'`,
    );
    expect(inbox.rows).toHaveLength(1);
    expect(inbox.rows[0]!.attempts).toBe(2);
    expect(inbox.rows[0]!.error).toMatch(/^worker stopped: /);
  });

  it("a relay asked to stop is not ready while it finishes its batch, then exits", async () => {
    const lock = new pg.Client({ connectionString: world.databaseUrls.sea });
    const admin = new pg.Client({ connectionString: SYSTEM.postgres });
    await Promise.all([lock.connect(), admin.connect()]);
    try {
      // The relays' next claim waits for this lock: a batch in flight that cannot end yet.
      await lock.query("BEGIN");
      await lock.query("LOCK TABLE outbox_unpublished IN EXCLUSIVE MODE");
      const dbName = new URL(world.databaseUrls.sea).pathname.slice(1);
      await eventually(
        async () => {
          const r = await admin.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE '%SKIP LOCKED%'`,
            [dbName],
          );
          // This process's sea relay and the relay process's.
          return r.rows[0]!.n >= 2;
        },
        10_000,
        "both sea relays to wait on the lock",
      );
      const exited = once(relay, "exit");
      relay.kill("SIGTERM");
      expect(await notReady(relayUrl)).toEqual({ status: "stopping", checks: [] });
      expect((await fetch(`${relayUrl}/health/live`)).status).toBe(200);
      expect(relay.exitCode).toBeNull();
      await lock.query("COMMIT");
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    } finally {
      await lock.query("ROLLBACK").catch(() => undefined);
      await Promise.all([lock.end(), admin.end()]);
    }
  });
});
