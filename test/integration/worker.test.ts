import { spawn } from "node:child_process";
import { connect, headers, type NatsConnection, type JetStreamManager } from "nats";
import OpenAI from "openai";
import { sdkClient } from "../helpers/zed-fetch.js";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subjectSpace, type SubjectSpace } from "../../contracts/index.js";
import { JetStreamCommandSource } from "../../adapters/nats/command-source.js";
import { createPool } from "../../adapters/postgres/pool.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { testProcessor } from "../helpers/processor.js";
import { createTestWorld, eventually, SYSTEM, testLog } from "../helpers/env.js";
import {
  countingHandler,
  flakyHandler,
  gateHandler,
  midStreamFailure,
  poisonHandler,
} from "../helpers/handlers.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

const world = createTestWorld("worker");
const ENV = { ACK_WAIT_SECS: "2", MAX_DELIVER: "3" };
const catalog = testCatalog([
  { id: "sea-poison", context: "sea", handler: "poison" },
  { id: "sea-flaky", context: "sea", handler: "flaky" },
  { id: "sea-down", context: "sea", handler: "down" },
  { id: "sea-count", context: "sea", handler: "count" },
  { id: "sea-gate", context: "sea", handler: "gate" },
  { id: "sea-midfail", context: "sea", handler: "midfail" },
]);
let system: TestSystem;
let client: OpenAI;
let nc: NatsConnection;
let jsm: JetStreamManager;
let pool: pg.Pool;
let subjects: SubjectSpace;
const counts = new Map<string, number>();
const gate = gateHandler("gate");

function handlers(): HandlerRegistry {
  return new HandlerRegistry()
    .register(echoHandler())
    .register(poisonHandler)
    .register(flakyHandler("flaky", 2))
    .register(flakyHandler("down", 99))
    .register(countingHandler("count", counts))
    .register(gate.handler)
    .register(midStreamFailure);
}

async function dlqCount(): Promise<number> {
  return (await jsm.streams.info(subjects.dlqStream("sea"))).state.messages;
}

async function consumerState() {
  return jsm.consumers.info(subjects.commandStream("sea"), subjects.workerDurable("sea"));
}

async function inboxRow(streamId: string) {
  const r = await pool.query(
    `SELECT i.* FROM inbox_messages i
       JOIN outbox_events o ON o.id::text = i.message_id
      WHERE o.aggregate_id = $1`,
    [streamId],
  );
  return r.rows[0] as
    { processed_at: Date | null; process_attempts: number; last_error: string | null } | undefined;
}

async function terminalEvents(streamId: string): Promise<number> {
  const r = await pool.query(
    `SELECT count(*)::int AS n FROM outbox_events
      WHERE aggregate_id = $1 AND event_type IN ('chat_completed', 'chat_failed')`,
    [streamId],
  );
  return r.rows[0].n;
}

/** Sends a non-streaming request and returns its stream id with the completion. */
async function complete(model: string, text: string) {
  const { data, response } = await client.chat.completions
    .create({ model, messages: [{ role: "user", content: text }] })
    .withResponse();
  return { completion: data, streamId: response.headers.get("x-stream-id")! };
}

beforeAll(async () => {
  system = await startTestSystem(world, catalog, ENV);
  client = sdkClient(system.baseURL, system.apiKey);
  subjects = subjectSpace(world.namespace);
  nc = await connect({ servers: SYSTEM.nats });
  jsm = await nc.jetstreamManager();
  pool = createPool(world.databaseUrls.sea);
});

afterAll(async () => {
  await system?.stop();
  await nc?.close();
  await pool?.end();
  await world.cleanup();
});

describe("worker ack rules", () => {
  it("runs the handler once when a processed command is delivered again", async () => {
    // A worker whose first ack is lost: it commits, then the message comes back (as after a
    // crash before the ack, or a lost ack).
    const wnc = await connect({ servers: SYSTEM.nats });
    const processor = testProcessor({
      namespace: world.namespace,
      pool,
      nc: wnc,
      handlers: handlers(),
      ackWaitMs: 2_000,
    });
    const source = new JetStreamCommandSource(
      wnc.jetstream(),
      subjects,
      "sea",
      { batchSize: 10, maxInflight: 10, heartbeatMs: 500 },
      testLog,
    );
    const deliveries: number[] = [];
    await source.start((cmd) => {
      deliveries.push(cmd.deliveryCount);
      const lose = cmd.deliveryCount === 1;
      return processor.process({ ...cmd, ack: lose ? async () => cmd.nak(0) : cmd.ack });
    });
    try {
      const { completion, streamId } = await complete("sea-count", "exactly once please");
      expect(completion.choices[0]!.message.content).toBe("exactly once please");
      await eventually(() => deliveries.length >= 2, 10_000, "redelivery");
      await eventually(async () => (await consumerState()).num_ack_pending === 0, 10_000, "ack");
      expect(counts.get(streamId)).toBe(1);
      expect(await terminalEvents(streamId)).toBe(1);
      expect(await inboxRow(streamId)).toMatchObject({ process_attempts: 1 });
    } finally {
      await source.stop();
      await wnc.close();
    }
  });

  describe("with in-process workers", () => {
    let workers: Awaited<ReturnType<TestSystem["startWorkers"]>>;
    beforeAll(async () => {
      workers = await system.startWorkers(handlers());
    });
    afterAll(async () => {
      await workers.stop(1_000);
    });

    it("dead-letters a poison command, acks it, and the client gets a typed error", async () => {
      const before = await dlqCount();
      const err = await client.chat.completions
        .create({ model: "sea-poison", messages: [{ role: "user", content: "x" }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((err as Error).message).toContain("payload version not supported");
      await eventually(async () => (await dlqCount()) === before + 1, 5_000, "dead letter");
      const dl = await jsm.streams.getMessage(subjects.dlqStream("sea"), {
        last_by_subj: subjects.dlq("sea"),
      });
      expect(dl.json<{ reason: string; original: string }>()).toMatchObject({
        reason: expect.stringContaining("422"),
        original: expect.stringContaining("sea-poison"),
      });
      await eventually(async () => (await consumerState()).num_ack_pending === 0, 5_000, "ack");
    });

    it("answers a stream that fails before any output with the real status", async () => {
      const err = await client.chat.completions
        .create({ model: "sea-poison", stream: true, messages: [{ role: "user", content: "x" }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    });

    it("ends a stream that fails mid-way with an error event the SDK throws", async () => {
      const stream = await client.chat.completions.create({
        model: "sea-midfail",
        stream: true,
        messages: [{ role: "user", content: "x" }],
      });
      let got = "";
      const err = await (async () => {
        for await (const chunk of stream) got += chunk.choices[0]?.delta.content ?? "";
      })().catch((e: unknown) => e);
      expect(got).toBe("partial ");
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as Error).message).toContain("broke mid-stream");
    });

    it("dead-letters an undecodable message from the bus", async () => {
      const before = await dlqCount();
      const h = headers();
      h.set("Nats-Msg-Id", `garbage-${Date.now()}`);
      await nc
        .jetstream()
        .publish(
          subjects.command("sea", "chat_completion", 1),
          new Uint8Array([0xff, 0x00, 0x7b]),
          {
            headers: h,
          },
        );
      await eventually(async () => (await dlqCount()) === before + 1, 5_000, "dead letter");
      await eventually(async () => (await consumerState()).num_ack_pending === 0, 5_000, "ack");
    });

    it("redelivers after transient failures, then succeeds", async () => {
      const { completion, streamId } = await complete("sea-flaky", "third time lucky");
      expect(completion.choices[0]!.message.content).toBe("third time lucky");
      const row = await inboxRow(streamId);
      expect(row?.process_attempts).toBe(3);
      expect(row?.processed_at).not.toBeNull();
      expect(row?.last_error).toContain("upstream 503 on attempt 2");
    });

    it("dead-letters after MAX_DELIVER transient failures and tells the client", async () => {
      const before = await dlqCount();
      const err = await client.chat.completions
        .create({ model: "sea-down", messages: [{ role: "user", content: "x" }] })
        .catch((e: unknown) => e);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((err as Error).message).toContain("gave up after 3 attempts");
      await eventually(async () => (await dlqCount()) === before + 1, 5_000, "dead letter");
    });

    it("acks nothing before the handler's effects are committed", async () => {
      const pending = complete("sea-gate", "wait for it");
      await gate.entered;
      const info = await consumerState();
      expect(info.num_ack_pending).toBe(1);
      const open = await pool.query(
        "SELECT count(*)::int AS n FROM inbox_messages WHERE processed_at IS NULL AND locked_until > now()",
      );
      expect(open.rows[0].n).toBe(1);
      gate.open();
      const { completion, streamId } = await pending;
      expect(completion.choices[0]!.message.content).toBe("wait for it");
      expect((await inboxRow(streamId))?.processed_at).not.toBeNull();
      await eventually(async () => (await consumerState()).num_ack_pending === 0, 5_000, "ack");
    });
  });

  it("finishes the stream on another worker when one is killed mid-handler", async () => {
    // A worker process that streams slowly; it is SIGKILLed after the first words.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "bin/sea-gateway.ts", "worker", "--context", "sea"],
      { env: { ...process.env, ...world.env, ...ENV, ECHO_DELAY_MS: "200" }, stdio: "ignore" },
    );
    try {
      const text = "one two three four five six seven eight nine ten";
      const stream = await client.chat.completions.create({
        model: "sea",
        stream: true,
        messages: [{ role: "user", content: text }],
      });
      let got = "";
      let replacement: Awaited<ReturnType<TestSystem["startWorkers"]>> | null = null;
      for await (const chunk of stream) {
        got += chunk.choices[0]?.delta.content ?? "";
        if (got.split(" ").length > 3 && child.exitCode === null && !replacement) {
          child.kill("SIGKILL");
          replacement = await system.startWorkers(handlers(), ["sea"]);
        }
      }
      await replacement?.stop(1_000);
      expect(replacement).not.toBeNull();
      expect(got).toBe(text);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
