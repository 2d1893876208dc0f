import { connect, type NatsConnection } from "nats";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subjectSpace, type ChatCommandPayload, type Envelope } from "../../contracts/index.js";
import { createPool } from "../../adapters/postgres/pool.js";
import { Runtime } from "../../bin/runtime.js";
import type { DeliveredCommand } from "../../src/ports.js";
import { HandlerRegistry, type ChatHandler } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { testProcessor } from "../helpers/processor.js";
import { createTestWorld, SYSTEM, testLog } from "../helpers/env.js";

const world = createTestWorld("spec");
let nc: NatsConnection;
let pool: pg.Pool;

beforeAll(async () => {
  await Runtime.prepare(world.config(), world.infra(), testLog);
  nc = await connect({ servers: SYSTEM.nats });
  pool = createPool(world.databaseUrls.sea);
});

afterAll(async () => {
  await nc?.close();
  await pool?.end();
  await world.cleanup();
});

function command(handler: string): { id: string; streamId: string; data: Uint8Array } {
  const id = crypto.randomUUID();
  const streamId = crypto.randomUUID();
  const env: Envelope<ChatCommandPayload> = {
    event_id: id,
    event_type: "chat_completion",
    event_version: 1,
    tenant_id: "acme",
    correlation_id: id,
    causation_id: null,
    occurred_at: new Date().toISOString(),
    stream_id: streamId,
    payload: {
      stream_id: streamId,
      model: "sea",
      handler,
      messages: [{ role: "user", content: "same command twice" }],
      params: {},
    },
  };
  return { id, streamId, data: new TextEncoder().encode(JSON.stringify(env)) };
}

/** Two first deliveries of one command (published twice beyond the dedupe window). */
async function deliverTwice(handler: ChatHandler) {
  const subjects = subjectSpace(world.namespace);
  const processor = testProcessor({
    namespace: world.namespace,
    pool,
    nc: nc,
    handlers: new HandlerRegistry().register(handler),
    ackWaitMs: 10_000,
  });
  const cmd = command(handler.name);
  const outcomes: string[] = [];
  const delivery = (): DeliveredCommand => ({
    subject: subjects.command("sea", "chat_completion", 1),
    data: cmd.data,
    messageId: cmd.id,
    deliveryCount: 1,
    ack: async () => void outcomes.push("ack"),
    nak: (ms) => void outcomes.push(`nak:${ms > 0 ? "later" : "now"}`),
  });
  await Promise.all([processor.process(delivery()), processor.process(delivery())]);
  const terminal = await pool.query(
    "SELECT count(*)::int AS n FROM outbox_events WHERE aggregate_id = $1",
    [cmd.streamId],
  );
  return { outcomes: outcomes.sort(), terminals: terminal.rows[0].n as number };
}

describe("speculative start of side-effect-free handlers", () => {
  it("lets only the delivery holding the inbox claim complete", async () => {
    const { outcomes, terminals } = await deliverTwice(echoHandler(5));
    expect(terminals).toBe(1);
    // The loser either saw the row processed (ack) or held by the winner (nak for later).
    expect(outcomes[0]).toBe("ack");
    expect(["ack", "nak:later"]).toContain(outcomes[1]);
  });

  it("never starts a handler with external side effects before the claim", async () => {
    let runs = 0;
    const external: ChatHandler = {
      name: "external",
      handle: async (cmd, ctx) => {
        runs++;
        return echoHandler().handle(cmd, ctx);
      },
    };
    const { terminals } = await deliverTwice(external);
    expect(terminals).toBe(1);
    expect(runs).toBe(1);
  });
});
