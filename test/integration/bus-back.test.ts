import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchBusBack } from "../../adapters/nats/bus-back.js";
import { NatsResultFeed } from "../../adapters/nats/result-feed.js";
import { subjectSpace } from "../../contracts/index.js";
import { streamLeaderElectedSubject } from "../../adapters/nats/leader-elected.js";
import { eventually, SYSTEM } from "../helpers/env.js";
import { capturingLog } from "../helpers/log-capture.js";

// The advisory is what a cluster's new stream leader publishes (the chaos suite's cluster
// scenarios and test/integration/cluster-repull.test.ts see the real ones); here a copy of it,
// for a stream of the test's own name, shows who hears it.
let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: SYSTEM.nats });
});
afterAll(async () => {
  await nc?.close();
});

describe("the bus coming back", () => {
  it("is heard when a stream a publisher writes to elects a leader, and for no other", async () => {
    const mine = `BUSBACK_${randomBytes(3).toString("hex").toUpperCase()}`;
    const { log, lines } = capturingLog();
    let calls = 0;
    const stop = watchBusBack(nc, [`${mine}_COMMANDS`, `${mine}_EVENTS`], () => calls++, log);
    await nc.flush();
    const advisory = (stream: string) =>
      nc.publish(
        streamLeaderElectedSubject(stream),
        JSON.stringify({
          type: "io.nats.jetstream.advisory.v1.stream_leader_elected",
          leader: "n2",
        }),
      );
    advisory(`${mine}_OTHER`);
    advisory(`${mine}_EVENTS`);
    await eventually(() => calls === 1, 5_000, "the listener");
    expect(lines.find((l) => l.msg === "stream leader elected; trying again now")).toMatchObject({
      stream: `${mine}_EVENTS`,
      leader: "n2",
    });
    stop();
    advisory(`${mine}_EVENTS`);
    await nc.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(1);
  });

  it("makes the gateway's result feed read stored results again when an event stream elects a leader", async () => {
    const subjects = subjectSpace(`busback${randomBytes(3).toString("hex")}`);
    const feed = new NatsResultFeed(nc, await nc.jetstreamManager(), subjects, capturingLog().log);
    let calls = 0;
    const stop = feed.onReconnect(() => calls++);
    await nc.flush();
    nc.publish(streamLeaderElectedSubject(subjects.commandStream("sea")), "{}");
    nc.publish(streamLeaderElectedSubject(subjects.eventStream("vibespro")), "{}");
    await eventually(() => calls === 1, 5_000, "the feed's listener");
    stop();
    nc.publish(streamLeaderElectedSubject(subjects.eventStream("sea")), "{}");
    await nc.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(1);
  });
});
