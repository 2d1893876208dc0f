import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flushOncePerTurn } from "../../adapters/nats/turn-flush.js";
import { SYSTEM } from "../helpers/env.js";

/** The writes the connection hands its socket, counted (the transport's `send`). */
function countSends(nc: NatsConnection): { count: () => number } {
  const transport = (nc as unknown as { protocol: { transport: { send(b: Uint8Array): void } } })
    .protocol.transport;
  const send = transport.send.bind(transport);
  let n = 0;
  transport.send = (b) => {
    n++;
    send(b);
  };
  return { count: () => n };
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe("NATS writes once per turn of the event loop", () => {
  let writer: NatsConnection;
  let reader: NatsConnection;
  const subject = `turnflush.${randomBytes(4).toString("hex")}`;

  beforeAll(async () => {
    writer = await connect({ servers: SYSTEM.nats });
    reader = await connect({ servers: SYSTEM.nats });
    expect(flushOncePerTurn(writer)).toBe(true);
  });
  afterAll(async () => {
    await writer.close();
    await reader.close();
  });

  it("sends a lone message at the end of its turn, with no timer", async () => {
    const got: string[] = [];
    const sub = reader.subscribe(`${subject}.lone`, { callback: (_e, m) => got.push(m.string()) });
    await reader.flush();
    const sends = countSends(writer);
    writer.publish(`${subject}.lone`, "only");
    // Not written synchronously nor after the microtasks, but by the end of this turn.
    expect(sends.count()).toBe(0);
    await Promise.resolve();
    expect(sends.count()).toBe(0);
    await nextTurn();
    expect(sends.count()).toBe(1);
    await writer.flush();
    await reader.flush();
    expect(got).toEqual(["only"]);
    sub.unsubscribe();
  });

  it("sends what several callbacks of one turn publish as one write, in order", async () => {
    const got: string[] = [];
    const sub = reader.subscribe(`${subject}.many`, { callback: (_e, m) => got.push(m.string()) });
    await reader.flush();
    const sends = countSends(writer);
    // Three I/O-like callbacks of one turn, each with its own microtask checkpoint between:
    // nats.js alone would write after each.
    const published = new Promise<void>((resolve) => {
      let left = 3;
      for (const batch of [["a", "b"], ["c"], ["d", "e"]]) {
        setImmediate(() => {
          for (const text of batch) writer.publish(`${subject}.many`, text);
          void Promise.resolve().then(() => {
            if (--left === 0) resolve();
          });
        });
      }
    });
    await published;
    await nextTurn();
    expect(sends.count()).toBe(1);
    await writer.flush();
    await reader.flush();
    expect(got).toEqual(["a", "b", "c", "d", "e"]);
    sub.unsubscribe();
  });

  it("leaves a connection it does not recognise alone", () => {
    expect(flushOncePerTurn({} as NatsConnection)).toBe(false);
  });
});
