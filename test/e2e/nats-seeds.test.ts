import { connect } from "nats";
import { afterAll, describe, expect, it } from "vitest";
import { subjectSpace } from "../../contracts/index.js";
import { runCli } from "../helpers/cli.js";
import { createTestWorld, SYSTEM } from "../helpers/env.js";
import { freePort } from "../helpers/outbox.js";

const world = createTestWorld("seeds");

afterAll(() => world.cleanup());

describe("NATS_URL with several seeds", () => {
  it("a process starts while its first seed is down: it connects through the next one", async () => {
    const dead = `nats://127.0.0.1:${await freePort()}`;
    const run = await runCli(["migrate"], {
      ...world.env,
      NATS_URL: `${dead},${SYSTEM.nats}`,
      LOG_LEVEL: "warn",
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    // What migrate provisioned through the live seed is there.
    const nc = await connect({ servers: SYSTEM.nats });
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.streams.info(subjectSpace(world.namespace).commandStream("sea"));
      expect(info.config.num_replicas).toBe(1);
    } finally {
      await nc.close();
    }
  });
});
