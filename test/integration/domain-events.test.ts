import { once } from "node:events";
import { connect, headers, type JetStreamManager, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { createTestWorld, eventually, SYSTEM, TEST_SECRET } from "../helpers/env.js";
import { sseEvents } from "../helpers/sse.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

// Another service on the same cluster (the seed's aggregate service) publishes tenants' domain
// events; the gateway lets each tenant follow its own, over SSE and WebSocket.
const world = createTestWorld("domainevents");
const AGGREGATES = `${world.namespace.toUpperCase()}_AGGREGATE_EVENTS`;
let system: TestSystem;
let nc: NatsConnection;
let jsm: JetStreamManager;
let acme: string;
let globex: string;

beforeAll(async () => {
  nc = await connect({ servers: SYSTEM.nats });
  jsm = await nc.jetstreamManager();
  await jsm.streams.add({
    name: AGGREGATES,
    subjects: [`${world.namespace}.tenant.*.aggregate.*.*`],
  });
  system = await startTestSystem(world, testCatalog(), {
    DOMAIN_EVENT_STREAMS: "AGGREGATE_EVENTS=tenant.{tenant}.>,MISSING_EVENTS=missing.{tenant}.>",
  });
  acme = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 600 });
  globex = await mintKey(TEST_SECRET, { tenant: "globex", ttlSecs: 600 });
});

afterAll(async () => {
  await system?.stop();
  await nc?.close();
  await world.cleanup();
});

let published = 0;
/** Publishes one event as the aggregate service does (its own envelope, extra fields). */
async function publish(tenant: string, type: string, id: string, extra: object = {}) {
  const h = headers();
  h.set("Nats-Msg-Id", `agg-${++published}-${Date.now()}`);
  await nc.jetstream().publish(
    `${world.namespace}.tenant.${tenant}.aggregate.${type}.${id}`,
    new TextEncoder().encode(
      JSON.stringify({
        event_id: `e-${published}`,
        command_id: `c-${published}`,
        version: published,
        event_type: "OrderChanged",
        tenant_id: tenant,
        payload: { n: published },
        schema: "aggregate/v1",
        ...extra,
      }),
    ),
    { headers: h },
  );
}

/** Follows `/v1/events` with a key until `count` events arrived (or the stop signal). */
function follow(key: string, query: string, init: { lastEventId?: number } = {}) {
  const abort = new AbortController();
  const got: {
    id: number;
    data: { subject: string; seq: number; event: Record<string, unknown> };
  }[] = [];
  let status = 0;
  const ready = (async () => {
    const h: Record<string, string> = { authorization: `Bearer ${key}` };
    if (init.lastEventId !== undefined) h["last-event-id"] = String(init.lastEventId);
    const res = await fetch(`${system.baseURL}/events?${query}`, {
      headers: h,
      signal: abort.signal,
    });
    status = res.status;
    if (res.status !== 200) return (await res.json()) as unknown;
    let buf = "";
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          const cut = buf.lastIndexOf("\n\n") + 2;
          for (const e of sseEvents(buf.slice(0, cut))) {
            got.push({ id: e.id!, data: JSON.parse(e.data) as (typeof got)[number]["data"] });
          }
          buf = buf.slice(cut);
        }
      } catch {
        // stopped
      }
    })();
    return null;
  })();
  return { got, ready, status: () => status, stop: () => abort.abort() };
}

const consumersOf = async () => {
  const names: string[] = [];
  for await (const c of jsm.consumers.list(AGGREGATES)) names.push(c.name);
  return names;
};

describe("GET /v1/events", () => {
  it("gives a tenant its own events, never another tenant's, with their fields kept", async () => {
    const sub = follow(acme, "subject=tenant.acme.aggregate.order.*");
    await sub.ready;
    expect(sub.status()).toBe(200);
    await eventually(async () => (await consumersOf()).length === 1, 5_000, "consumer");
    await publish("globex", "order", "1");
    await publish("acme", "order", "1");
    await publish("acme", "invoice", "9");
    await publish("acme", "order", "2");
    await eventually(() => sub.got.length >= 2, 5_000, "acme's events");
    await new Promise((r) => setTimeout(r, 300));
    sub.stop();
    expect(sub.got.map((e) => e.data.subject)).toEqual([
      "tenant.acme.aggregate.order.1",
      "tenant.acme.aggregate.order.2",
    ]);
    expect(sub.got[0]!.data.event).toMatchObject({
      command_id: expect.any(String),
      version: expect.any(Number),
      schema: "aggregate/v1",
      tenant_id: "acme",
    });
    expect(sub.got[0]!.id).toBe(sub.got[0]!.data.seq);
  });

  it.each([
    ["another tenant's subject", "tenant.globex.>"],
    ["a wildcard for the tenant", "tenant.*.aggregate.order.1"],
    ["a bare >", ">"],
    ["a subject outside every stream", "sea.command.chat_completion.v1"],
    ["a token with a space", "tenant.acme.aggregate.a b"],
  ])("refuses %s with a 400", async (_name, subject) => {
    const r = await fetch(`${system.baseURL}/events?subject=${encodeURIComponent(subject)}`, {
      headers: { authorization: `Bearer ${acme}` },
    });
    const body = await r.json();
    expect(r.status, JSON.stringify(body)).toBe(400);
    expect(body).toMatchObject({ error: { param: "subject" } });
  });

  it("answers 404 for a configured stream that does not exist", async () => {
    const r = await fetch(`${system.baseURL}/events?subject=missing.acme.x`, {
      headers: { authorization: `Bearer ${acme}` },
    });
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ error: { code: "stream_not_found" } });
  });

  it("deletes its consumer when the subscriber leaves", async () => {
    const sub = follow(acme, "subject=tenant.acme.>");
    await sub.ready;
    await eventually(async () => (await consumersOf()).length === 1, 5_000, "consumer");
    sub.stop();
    await eventually(async () => (await consumersOf()).length === 0, 5_000, "consumer deleted");
  });

  it("delivers a burst of 1,000 events complete and in order, and resumes after a cursor", async () => {
    const sub = follow(globex, "subject=tenant.globex.aggregate.burst.*");
    await sub.ready;
    await eventually(async () => (await consumersOf()).length === 1, 5_000, "consumer");
    await Promise.all(Array.from({ length: 1000 }, (_, i) => publish("globex", "burst", `b${i}`)));
    await eventually(() => sub.got.length === 1000, 20_000, "1000 events");
    sub.stop();
    const seqs = sub.got.map((e) => e.id);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(sub.got.map((e) => e.data.subject)).size).toBe(1000);
    // Resume after the 990th: exactly the last ten come again.
    const again = follow(globex, "subject=tenant.globex.aggregate.burst.*", {
      lastEventId: seqs[989],
    });
    await again.ready;
    await eventually(() => again.got.length === 10, 5_000, "the last ten");
    again.stop();
    expect(again.got.map((e) => e.id)).toEqual(seqs.slice(990));
  });
});

describe("WebSocket event subscriptions", () => {
  it("subscribes, receives, and unsubscribes", async () => {
    const ws = new WebSocket(system.baseURL.replace(/^http/, "ws") + "/ws", {
      headers: { authorization: `Bearer ${acme}` },
    });
    const messages: Record<string, unknown>[] = [];
    ws.on("message", (d) => messages.push(JSON.parse(String(d)) as Record<string, unknown>));
    await once(ws, "open");
    ws.send(
      JSON.stringify({ type: "subscribe_events", id: "s1", subject: "tenant.acme.aggregate.ws.*" }),
    );
    const subscribed = await eventually(() => messages.find((m) => m.type === "subscribed"));
    await publish("acme", "ws", "1");
    await publish("globex", "ws", "1");
    await publish("acme", "ws", "2");
    await eventually(() => messages.filter((m) => m.type === "event").length === 2);
    const events = messages.filter((m) => m.type === "event");
    expect(events.map((e) => e.subject)).toEqual([
      "tenant.acme.aggregate.ws.1",
      "tenant.acme.aggregate.ws.2",
    ]);
    expect(events[0]).toMatchObject({ subscription_id: subscribed.subscription_id });
    ws.send(
      JSON.stringify({ type: "unsubscribe_events", subscription_id: subscribed.subscription_id }),
    );
    await eventually(async () => (await consumersOf()).length === 0, 5_000, "consumer deleted");
    ws.send(JSON.stringify({ type: "subscribe_events", subject: "tenant.globex.>" }));
    await eventually(() => messages.find((m) => m.type === "error"));
    ws.close();
  });
});
