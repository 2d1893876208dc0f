import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect, type JetStreamManager, type NatsConnection } from "nats";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subjectSpace, type SubjectSpace } from "../../contracts/index.js";
import { startNatsServer } from "../../adapters/embedded/nats-server.js";
import { connectNats } from "../../adapters/nats/connection.js";
import { JetStreamPublisher } from "../../adapters/nats/publisher.js";
import { provisionStreams } from "../../adapters/nats/streams.js";
import { insertOutbox } from "../../adapters/postgres/outbox-sql.js";
import { PgOutboxRelayStore } from "../../adapters/postgres/outbox-relay-store.js";
import { createPool } from "../../adapters/postgres/pool.js";
import { Runtime } from "../../bin/runtime.js";
import { ImmediateDispatcher } from "../../src/outbox/immediate-dispatcher.js";
import { PgOutboxWriter } from "../../adapters/postgres/outbox-writer.js";
import { OutboxRelay } from "../../src/relay/outbox-relay.js";
import { createTestWorld, eventually, testLog, SYSTEM } from "../helpers/env.js";
import { commandMessages, CountingPublisher, freePort } from "../helpers/outbox.js";

const world = createTestWorld("relay");
let pool: pg.Pool;
let nc: NatsConnection;
let jsm: JetStreamManager;
let subjects: SubjectSpace;
const url = world.databaseUrls.sea;

async function storedOn(m: JetStreamManager, stream: string, subject: string): Promise<number> {
  const info = await m.streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

async function unpublished(ids: string[]) {
  const r = await pool.query<{
    id: string;
    publish_attempts: number;
    publish_error: string | null;
  }>(
    `SELECT id, publish_attempts, publish_error FROM outbox_unpublished
      WHERE id = ANY($1) AND refused_at IS NULL`,
    [ids],
  );
  return r.rows;
}

function relay(store: PgOutboxRelayStore, publisher: JetStreamPublisher | CountingPublisher) {
  return new OutboxRelay({
    context: "sea",
    subjects,
    store,
    publisher,
    batchSize: 20,
    pollMs: 100,
    log: testLog,
  });
}

beforeAll(async () => {
  const config = world.config();
  await Runtime.prepare(config, world.infra(), testLog);
  subjects = subjectSpace(world.namespace);
  pool = createPool(url);
  nc = await connect({ servers: SYSTEM.nats });
  jsm = await nc.jetstreamManager();
});

afterAll(async () => {
  await pool?.end();
  await nc?.close();
  await world.cleanup();
});

describe("outbox relay", () => {
  it("republishes after a crash between publish and mark, and JetStream drops the duplicate", async () => {
    const msgs = commandMessages(subjects, "sea", "relay_crash", 5);
    const ids = msgs.map((m) => m.envelope.event_id);
    await insertOutbox(pool, msgs);
    const store = new PgOutboxRelayStore(pool, url, testLog);
    const publisher = new JetStreamPublisher(nc.jetstream());
    // The "crash": every row reaches JetStream, then the process dies before marking.
    await expect(
      store.relayBatch(10, async (rows) => {
        for (const r of rows) {
          await publisher.publish(r.subject, new TextEncoder().encode("{}"), r.id, {
            correlationId: r.id,
            causationId: null,
            tenantId: "acme",
          });
        }
        throw new Error("crash before mark");
      }),
    ).rejects.toThrow("crash before mark");
    expect(await unpublished(ids)).toHaveLength(5);
    const subject = subjects.command("sea", "relay_crash", 1);
    expect(await storedOn(jsm, subjects.commandStream("sea"), subject)).toBe(5);

    const counting = new CountingPublisher(publisher);
    const r = relay(store, counting);
    r.start();
    await eventually(async () => (await unpublished(ids)).length === 0, 10_000, "rows marked");
    await r.stop();
    await store.close();
    expect(counting.calls.sort()).toEqual([...ids].sort()); // every row was published again…
    expect(await storedOn(jsm, subjects.commandStream("sea"), subject)).toBe(5); // …once in the stream
  });

  it("two relays publish every row exactly once and skip none", async () => {
    const msgs = commandMessages(subjects, "sea", "relay_two", 300);
    const ids = msgs.map((m) => m.envelope.event_id);
    const pools = [createPool(url), createPool(url)];
    const stores = pools.map((p) => new PgOutboxRelayStore(p, url, testLog));
    const publishers = stores.map(
      () => new CountingPublisher(new JetStreamPublisher(nc.jetstream())),
    );
    const relays = stores.map((s, i) => relay(s, publishers[i]!));
    relays.forEach((r) => r.start());
    // Insert while both run, in several transactions, so they compete for rows.
    for (let i = 0; i < msgs.length; i += 30) await insertOutbox(pool, msgs.slice(i, i + 30));
    await eventually(async () => (await unpublished(ids)).length === 0, 20_000, "all published");
    await Promise.all(relays.map((r) => r.stop()));
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(pools.map((p) => p.end()));
    const all = publishers.flatMap((p) => p.calls);
    expect(all).toHaveLength(300);
    expect(new Set(all)).toEqual(new Set(ids));
    expect(publishers.every((p) => p.calls.length > 0)).toBe(true);
    const subject = subjects.command("sea", "relay_two", 1);
    expect(await storedOn(jsm, subjects.commandStream("sea"), subject)).toBe(300);
    // Each published once (300 calls for 300 ids, above), and none left behind.
    expect(await unpublished(ids)).toEqual([]);
  });

  it("keeps rows while NATS is down, records the failures, then drains", async () => {
    const port = await freePort();
    const storeDir = await mkdtemp(path.join(tmpdir(), "relay-nats-"));
    let server = await startNatsServer({ port, storeDir, log: testLog });
    const privateNc = await connectNats(server.url, "relay-test", testLog);
    const store = new PgOutboxRelayStore(pool, url, testLog);
    let r: OutboxRelay | null = null;
    try {
      const privateJsm = await privateNc.jetstreamManager();
      await provisionStreams(privateJsm, subjects, "sea");
      r = relay(store, new JetStreamPublisher(privateNc.jetstream(), 300));
      r.start();
      await server.stop();

      const msgs = commandMessages(subjects, "sea", "relay_down", 3);
      const ids = msgs.map((m) => m.envelope.event_id);
      await insertOutbox(pool, msgs);
      const failed = await eventually(
        async () => {
          const rows = await unpublished(ids);
          return rows.length === 3 && rows.every((x) => x.publish_attempts >= 1) ? rows : null;
        },
        10_000,
        "failed attempts recorded",
      );
      expect(failed.every((x) => x.publish_error !== null)).toBe(true);

      server = await startNatsServer({ port, storeDir, log: testLog });
      await eventually(async () => (await unpublished(ids)).length === 0, 20_000, "drained");
      const subject = subjects.command("sea", "relay_down", 1);
      expect(await storedOn(privateJsm, subjects.commandStream("sea"), subject)).toBe(3);
    } finally {
      await r?.stop();
      await store.close();
      await privateNc.close();
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
    }
  });

  it("once the bus is back, publishes rows waiting out a long backoff at once, and only those", async () => {
    const store = new PgOutboxRelayStore(pool, url, testLog);
    const r = relay(store, new JetStreamPublisher(nc.jetstream(), 2_000));
    try {
      const failed = commandMessages(subjects, "sea", "relay_backoff", 2);
      const fresh = commandMessages(subjects, "sea", "relay_grace", 1);
      await insertOutbox(pool, failed);
      // A fresh row inside its dispatch grace stays its writer's.
      await insertOutbox(pool, fresh, 3_600_000);
      const failedIds = failed.map((m) => m.envelope.event_id);
      // As a long outage leaves them: several failed attempts, the next one far off.
      await pool.query(
        `UPDATE outbox_unpublished SET publish_attempts = 9, publish_error = 'TIMEOUT',
                next_attempt_at = now() + interval '1 hour' WHERE id = ANY($1)`,
        [failedIds],
      );
      r.start();
      await new Promise((res) => setTimeout(res, 300));
      expect(await unpublished(failedIds)).toHaveLength(2);

      r.busBack();
      await eventually(async () => (await unpublished(failedIds)).length === 0, 10_000, "drained");
      const subject = subjects.command("sea", "relay_backoff", 1);
      expect(await storedOn(jsm, subjects.commandStream("sea"), subject)).toBe(2);
      expect(await unpublished([fresh[0]!.envelope.event_id])).toHaveLength(1);
    } finally {
      await r.stop();
      await store.close();
    }
  });

  it("leaves dispatched rows to their writer, and publishes them itself when dispatch fails", async () => {
    const writer = new PgOutboxWriter({ sea: pool, vibespro: pool }, 300);
    const store = new PgOutboxRelayStore(pool, url, testLog);
    const relayPublisher = new CountingPublisher(new JetStreamPublisher(nc.jetstream()));
    const r = relay(store, relayPublisher);
    r.start();
    try {
      // Dispatch works: the writer publishes and marks; the relay never touches the rows.
      const ok = commandMessages(subjects, "sea", "dispatch_ok", 3);
      const okIds = ok.map((m) => m.envelope.event_id);
      await writer.enqueue("sea", ok);
      new ImmediateDispatcher(new JetStreamPublisher(nc.jetstream()), writer, testLog).dispatch(
        "sea",
        ok,
      );
      await eventually(async () => (await unpublished(okIds)).length === 0, 5_000, "dispatched");
      // Dispatch fails (NATS refused, process died): after the grace the relay publishes.
      const failing = new ImmediateDispatcher(
        { publish: async () => Promise.reject(new Error("nats unavailable")) },
        writer,
        testLog,
      );
      const lost = commandMessages(subjects, "sea", "dispatch_lost", 3);
      const lostIds = lost.map((m) => m.envelope.event_id);
      await writer.enqueue("sea", lost);
      failing.dispatch("sea", lost);
      await eventually(async () => (await unpublished(lostIds)).length === 0, 10_000, "relayed");
      expect(relayPublisher.calls.sort()).toEqual([...lostIds].sort());
      const subject = subjects.command("sea", "dispatch_lost", 1);
      expect(await storedOn(jsm, subjects.commandStream("sea"), subject)).toBe(3);
    } finally {
      await r.stop();
      await store.close();
    }
  });

  it("stores a NUL character in an event (which jsonb cannot hold) as U+FFFD", async () => {
    const [m] = commandMessages(subjects, "sea", "nul_event", 1);
    m!.envelope.payload = { content: "a\0b", literal: "\\u0000 stays" };
    await insertOutbox(pool, [m!]);
    const r = await pool.query("SELECT payload->'payload' AS p FROM outbox_events WHERE id = $1", [
      m!.envelope.event_id,
    ]);
    expect(r.rows[0].p).toEqual({ content: "a\ufffdb", literal: "\\u0000 stays" });
  });
});
