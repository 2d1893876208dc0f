import { randomUUID } from "node:crypto";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDatabase, migrate } from "../../adapters/postgres/migrator.js";
import { PgInboxStore } from "../../adapters/postgres/inbox-store.js";
import { createPool } from "../../adapters/postgres/pool.js";
import type { InboxClaim } from "../../src/ports.js";
import { createTestWorld, testLog } from "../helpers/env.js";

const world = createTestWorld("inbox");
let pool: pg.Pool;
let inbox: PgInboxStore;

beforeAll(async () => {
  await ensureDatabase(world.databaseUrls.sea, testLog);
  await migrate(world.databaseUrls.sea, testLog);
  pool = createPool(world.databaseUrls.sea, { max: 2, waitMs: 5_000 });
  inbox = new PgInboxStore(pool);
});

afterAll(async () => {
  await pool?.end();
  await world.cleanup();
});

type Stream = { tenant: string; streamId: string };

/**
 * The two ways a claim reaches the database: alone in its turn (the scalar statement) or with
 * others made in the same turn (the unnested batch statement). Every case runs through both.
 */
const paths = {
  alone: (id: string, leaseMs: number, stream?: Stream) =>
    inbox.claim(id, "chat_completion", leaseMs, stream),
  batched: async (id: string, leaseMs: number, stream?: Stream) => {
    const [mine] = await Promise.all([
      inbox.claim(id, "chat_completion", leaseMs, stream),
      inbox.claim(randomUUID(), "chat_completion", leaseMs),
    ]);
    return mine!;
  },
};

const streamOf = (): Stream => ({ tenant: "acme", streamId: `chatcmpl-${randomUUID()}` });

describe.each(Object.entries(paths))("PgInboxStore.claim, %s", (_path, claim) => {
  it("claims a new message as attempt 1, not cancelled", async () => {
    expect(await claim(randomUUID(), 30_000, streamOf())).toEqual<InboxClaim>({
      status: "claimed",
      attempts: 1,
      cancelled: false,
    });
    expect(await claim(randomUUID(), 30_000)).toEqual<InboxClaim>({
      status: "claimed",
      attempts: 1,
      cancelled: false,
    });
  });

  it("answers busy, with the lease left, while another holds the message", async () => {
    const id = randomUUID();
    await claim(id, 30_000);
    const again = await claim(id, 30_000);
    expect(again.status).toBe("busy");
    const left = (again as Extract<InboxClaim, { status: "busy" }>).retryInMs;
    expect(left).toBeGreaterThan(25_000);
    expect(left).toBeLessThanOrEqual(30_000);
  });

  it("re-takes a message whose lease ran out, as the next attempt", async () => {
    const id = randomUUID();
    await claim(id, 30_000);
    await pool.query(
      "UPDATE inbox_messages SET locked_until = now() - interval '1 second' WHERE message_id = $1",
      [id],
    );
    expect(await claim(id, 30_000)).toEqual({ status: "claimed", attempts: 2, cancelled: false });
  });

  it("answers processed once the message is complete", async () => {
    const id = randomUUID();
    await claim(id, 30_000);
    expect(await inbox.complete(id, "chat_completion", [])).toBe(true);
    expect(await claim(id, 30_000)).toEqual({ status: "processed" });
  });

  it("tells a stream cancelled by a recorded cancellation, for its tenant only", async () => {
    const s = streamOf();
    await pool.query(
      "INSERT INTO cancelled_streams (tenant_id, stream_id, reason) VALUES ($1, $2, 'test')",
      [s.tenant, s.streamId],
    );
    expect(await claim(randomUUID(), 30_000, s)).toMatchObject({ cancelled: true });
    expect(await claim(randomUUID(), 30_000, { ...s, tenant: "other" })).toMatchObject({
      cancelled: false,
    });
  });

  it("tells a stream cancelled by a chat_cancel command no worker has taken yet", async () => {
    const s = streamOf();
    await pool.query(
      `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, event_type, event_version,
                                 subject, tenant_id, payload)
       VALUES ($1, 'chat_stream', $2, 'chat_cancel', 1, 'x', $3, '{}')`,
      [randomUUID(), s.streamId, s.tenant],
    );
    expect(await claim(randomUUID(), 30_000, s)).toMatchObject({
      status: "claimed",
      cancelled: true,
    });
    expect(await claim(randomUUID(), 30_000, { ...s, tenant: "other" })).toMatchObject({
      cancelled: false,
    });
  });
});
