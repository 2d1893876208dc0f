import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { subjectSpace } from "../../contracts/index.js";
import { startNatsServer } from "../../adapters/embedded/nats-server.js";
import { connectNats } from "../../adapters/nats/connection.js";
import { JetStreamPublisher } from "../../adapters/nats/publisher.js";
import { provisionStreams } from "../../adapters/nats/streams.js";
import { testLog } from "../helpers/env.js";
import { freePort } from "../helpers/outbox.js";

const subjects = subjectSpace("ridethrough");
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A private nats-server that can be stopped and started again on the same store. */
async function privateServer() {
  const port = await freePort();
  const storeDir = await mkdtemp(path.join(tmpdir(), "publish-nats-"));
  dirs.push(storeDir);
  return { port, start: () => startNatsServer({ port, storeDir, log: testLog }) };
}

describe("JetStream publishes through a NATS restart", () => {
  it("with retryForMs, a publish made while the server is down is stored once it is back", async () => {
    const srv = await privateServer();
    let server = await srv.start();
    const nc = await connectNats(server.url, "publish-test", testLog);
    try {
      const jsm = await nc.jetstreamManager();
      await provisionStreams(jsm, subjects, "sea");
      const subject = subjects.result("sea", "acme", "s1");
      const publisher = new JetStreamPublisher(nc.jetstream(), 500, { retryForMs: 20_000 });
      const oneShot = new JetStreamPublisher(nc.jetstream(), 500);
      const headers = { correlationId: "c", causationId: null, tenantId: "acme" };
      await server.stop();
      const data = new TextEncoder().encode("{}");
      // Without a retry budget, the same publish fails while the server is down.
      await expect(oneShot.publish(subject, data, "s1:1:0", headers)).rejects.toMatchObject({
        code: expect.stringMatching(/^(TIMEOUT|503|DISCONNECT)$/),
      });
      const riding = publisher.publish(subject, data, "s1:1:1", headers);
      // Started again only once the publish has failed at least once (its timeout is 500 ms).
      await new Promise((r) => setTimeout(r, 1_200));
      server = await srv.start();
      await riding;
      const info = await jsm.streams.info(subjects.eventStream("sea"));
      expect(info.state.messages).toBe(1);
    } finally {
      await nc.close();
      await server.stop();
    }
  });
});
