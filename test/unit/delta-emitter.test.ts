import { describe, expect, it } from "vitest";
import { subjectSpace } from "../../contracts/index.js";
import type { MessageHeaders } from "../../src/ports.js";
import { DeltaEmitter, PERSIST_WINDOW_MS } from "../../src/worker/delta-emitter.js";

/** Records what the emitter publishes, live and stored (the ports, in memory). */
function recorder() {
  const live: { subject: string; env: Record<string, unknown> }[] = [];
  const stored: { subject: string; msgId: string; env: Record<string, unknown> }[] = [];
  const dec = (d: Uint8Array) => JSON.parse(new TextDecoder().decode(d)) as Record<string, unknown>;
  return {
    live,
    stored,
    deps: {
      subjects: subjectSpace("t"),
      context: "sea" as const,
      live: {
        publishLive: (subject: string, data: Uint8Array) => live.push({ subject, env: dec(data) }),
      },
      publisher: {
        publish: async (subject: string, data: Uint8Array, msgId: string, _h: MessageHeaders) => {
          stored.push({ subject, msgId, env: dec(data) });
        },
      },
    },
  };
}

const base = { tenant: "acme", streamId: "s1", correlationId: "c", causationId: "k" };
const tick = () => new Promise((r) => setImmediate(r));

describe("DeltaEmitter", () => {
  it("sends the first delta at once, later ones ready in the same turn as one live message, and stores them in a batch", async () => {
    const r = recorder();
    const e = new DeltaEmitter(r.deps, base);
    e.open(2);
    for (const w of ["a", "b", "c"]) await e.emit({ content: w });
    // The first went before the turn ended (a reader waits for it); the rest wait for the turn.
    expect(r.live).toHaveLength(1);
    await tick();
    expect(r.live).toHaveLength(2);
    expect(r.live[0]).toMatchObject({
      subject: "t.sea.live.chat_result.v1.acme.s1",
      env: { event_type: "chat_delta", seq: 1, attempt: 2, payload: { content: "a" } },
    });
    expect(r.live[1]).toMatchObject({
      subject: "t.sea.live.chat_result.v1.acme.s1",
      env: {
        event_type: "chat_deltas",
        seq: 2,
        attempt: 2,
        payload: { deltas: [{ content: "b" }, { content: "c" }] },
      },
    });
    // Stored after the window, or at flush: one message, keyed by attempt and first seq.
    expect(r.stored).toHaveLength(0);
    await e.flush();
    expect(r.stored).toEqual([
      expect.objectContaining({
        subject: "t.sea.event.chat_result.v1.acme.s1",
        msgId: "s1:2:1",
        env: expect.objectContaining({ event_type: "chat_deltas", seq: 1 }),
      }),
    ]);
    expect(e.nextSeq).toBe(4);
  });

  it("sends a lone delta at once as chat_delta, and stores within the window", async () => {
    const r = recorder();
    const e = new DeltaEmitter(r.deps, base);
    e.open(1);
    await e.emit({ content: "x" });
    await tick();
    await e.emit({ content: "y" });
    await tick();
    expect(r.live.map((m) => [m.env.event_type, m.env.seq])).toEqual([
      ["chat_delta", 1],
      ["chat_delta", 2],
    ]);
    await new Promise((res) => setTimeout(res, PERSIST_WINDOW_MS + 50));
    expect(r.stored.map((m) => m.msgId)).toEqual(["s1:1:1"]);
    expect(r.stored[0]!.env).toMatchObject({
      event_type: "chat_deltas",
      payload: { deltas: [{ content: "x" }, { content: "y" }] },
    });
  });

  it("holds a speculative start's deltas until the claim names the attempt", async () => {
    const r = recorder();
    const e = new DeltaEmitter(r.deps, base);
    await e.emit({ content: "early" });
    await tick();
    expect(r.live).toHaveLength(0);
    e.open(7);
    await e.flush();
    expect(r.live[0]!.env).toMatchObject({ attempt: 7, seq: 1, payload: { content: "early" } });
    expect(r.stored[0]!.msgId).toBe("s1:7:1");
  });

  it("sends what waited for the claim at the claim, in one message, without waiting a turn", async () => {
    const r = recorder();
    const e = new DeltaEmitter(r.deps, base);
    for (const w of ["a", "b"]) await e.emit({ content: w });
    e.open(1);
    // Synchronously: the first chunk of a new stream is on its critical path.
    expect(r.live.map((m) => m.env)).toEqual([
      expect.objectContaining({ event_type: "chat_deltas", seq: 1, attempt: 1 }),
    ]);
    await e.emit({ content: "c" });
    await tick();
    expect(r.live.map((m) => m.env)).toEqual([
      expect.objectContaining({
        seq: 1,
        payload: { deltas: [{ content: "a" }, { content: "b" }] },
      }),
      expect.objectContaining({ event_type: "chat_delta", seq: 3, payload: { content: "c" } }),
    ]);
    await e.flush();
    expect(r.live).toHaveLength(2);
    expect(r.stored.map((m) => m.msgId)).toEqual(["s1:1:1"]);
  });

  /** An open emitter holding one delta, whose every store fails. */
  async function emitterThatCannotStore() {
    const r = recorder();
    r.deps.publisher.publish = async () => {
      throw new Error("jetstream down");
    };
    const e = new DeltaEmitter(r.deps, base);
    e.open(1);
    await e.emit({ content: "x" });
    return e;
  }

  it("fails flush when storing failed (the attempt must not commit a hole)", async () => {
    const e = await emitterThatCannotStore();
    await expect(e.flush()).rejects.toThrow("jetstream down");
  });

  it("fails flush when a batch stored on the timer failed before flush was called", async () => {
    const e = await emitterThatCannotStore();
    await new Promise((res) => setTimeout(res, PERSIST_WINDOW_MS + 50));
    await expect(e.flush()).rejects.toThrow("jetstream down");
  });
});
