import { connect, headers, type JetStreamManager, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeEnvelope, subjectSpace } from "../../contracts/index.js";
import { provisionStreams } from "../../adapters/nats/streams.js";
import { createTestWorld, SYSTEM } from "../helpers/env.js";

const world = createTestWorld("streams");
const subjects = subjectSpace(world.namespace);
let nc: NatsConnection;
let jsm: JetStreamManager;
const foreign = `${world.namespace.toUpperCase()}_AGGREGATE_EVENTS`;

beforeAll(async () => {
  nc = await connect({ servers: SYSTEM.nats });
  jsm = await nc.jetstreamManager();
});

afterAll(async () => {
  await nc.close();
  await world.cleanup();
});

describe("JetStream provisioning", () => {
  it("is idempotent and coexists with another service's streams", async () => {
    // Another service on the same cluster (the aggregate service of the seed conversation).
    await jsm.streams.add({
      name: foreign,
      subjects: [`${world.namespace}.tenant.*.aggregate.*.*`],
    });
    await provisionStreams(jsm, subjects, "sea");
    await provisionStreams(jsm, subjects, "sea");
    await provisionStreams(jsm, subjects, "vibespro");
    const names: string[] = [];
    for await (const s of jsm.streams.list()) names.push(s.config.name);
    expect(names).toEqual(
      expect.arrayContaining([
        foreign,
        subjects.commandStream("sea"),
        subjects.eventStream("sea"),
        subjects.dlqStream("sea"),
        subjects.eventStream("vibespro"),
      ]),
    );
    const events = await jsm.streams.info(subjects.eventStream("sea"));
    expect(events.config.subjects).toEqual([`${world.namespace}.sea.event.>`]);
    expect(events.config.allow_direct).toBe(true);
  });

  it("brings a drifted stream's settings back", async () => {
    const name = subjects.eventStream("vibespro");
    const info = await jsm.streams.info(name);
    await jsm.streams.update(name, { ...info.config, allow_direct: false });
    await provisionStreams(jsm, subjects, "vibespro");
    expect((await jsm.streams.info(name)).config.allow_direct).toBe(true);
  });

  it("decodes what the other service publishes, with its extra and optional fields", async () => {
    const subject = `${world.namespace}.tenant.acme.aggregate.order.created`;
    const h = headers();
    h.set("Nats-Msg-Id", "agg-evt-1");
    await nc.jetstream().publish(
      subject,
      new TextEncoder().encode(
        JSON.stringify({
          event_id: "8d1f6c9e-6f57-4a8e-a8a8-0d5d6a4e7b21",
          command_id: "cmd-1",
          version: 7,
          event_type: "OrderCreated",
          tenant_id: "acme",
          aggregate_id: "order-1",
          payload: { total: 3 },
          schema: "aggregate/v1",
        }),
      ),
      { headers: h },
    );
    const stored = await jsm.streams.getMessage(foreign, { last_by_subj: subject });
    const decoded = decodeEnvelope(stored.data);
    expect(decoded).toMatchObject({
      ok: true,
      value: { command_id: "cmd-1", version: 7, event_type: "OrderCreated" },
    });
  });
});
