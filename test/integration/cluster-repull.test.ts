import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrivateNats } from "../../chaos/lib/private-nats.js";
import { subjectSpace } from "../../contracts/index.js";
import { JetStreamCommandSource } from "../../adapters/nats/command-source.js";
import { consumerLeaderElectedSubject, electedLeader } from "../../adapters/nats/leader-elected.js";
import { workerRepullTriggers } from "../../adapters/nats/repull-triggers.js";
import { provisionStreams, provisionWorkerConsumer } from "../../adapters/nats/streams.js";
import { eventually } from "../helpers/env.js";
import { capturingLog } from "../helpers/log-capture.js";

// A private 3-node JetStream cluster on its own ports (started and stopped by pid): the
// worker's consumer leader is killed with SIGKILL, as a crashed node would be.
const subjects = subjectSpace(`repull${randomBytes(3).toString("hex")}`);
const STREAM = subjects.commandStream("sea");
const DURABLE = subjects.workerDurable("sea");
let dir: string;
let cluster: PrivateNats;
const conns: NatsConnection[] = [];
const urlOf = (name: string) =>
  `nats://127.0.0.1:${cluster.nodes.find((n) => n.name === name)!.port}`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "repull-"));
  cluster = await PrivateNats.start(dir, 3);
  const admin = await connect({ servers: cluster.url.split(",") });
  conns.push(admin);
  const jsm = await admin.jetstreamManager();
  await provisionStreams(jsm, subjects, "sea", 3);
  await provisionWorkerConsumer(jsm, subjects, "sea", {
    ackWaitMs: 4_000,
    maxDeliver: 3,
    maxAckPending: 100,
  });
}, 60_000);

afterAll(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  await cluster?.stop();
  cluster?.removeStores();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a worker on a JetStream cluster", () => {
  it("pulls again when its consumer's leader is killed, and gets what is published after", async () => {
    const admin = conns[0]!;
    const jsm = await admin.jetstreamManager();
    const leader = await eventually(
      async () => (await jsm.consumers.info(STREAM, DURABLE)).cluster?.leader,
      10_000,
      "a consumer leader",
    );
    // The worker and the test stay on a node that survives: no reconnect plays a part.
    const survivor = cluster.nodes.map((n) => n.name).find((n) => n !== leader)!;
    const opts = { servers: urlOf(survivor), ignoreClusterUpdates: true };
    const wnc = await connect(opts);
    const tnc = await connect(opts);
    conns.push(wnc, tnc);
    const { log, lines } = capturingLog();
    const handled: string[] = [];
    const source = new JetStreamCommandSource(
      wnc.jetstream(),
      subjects,
      "sea",
      {
        batchSize: 10,
        maxInflight: 10,
        heartbeatMs: 500,
        repullTriggers: workerRepullTriggers(wnc, subjects, "sea", log),
      },
      log,
    );
    await source.start(async (cmd) => {
      handled.push(cmd.messageId ?? "?");
      await cmd.ack();
    });
    const js = tnc.jetstream();
    const subject = subjects.command("sea", "probe", 1);
    try {
      await js.publish(subject, new Uint8Array(), { msgID: "before" });
      await eventually(() => handled.includes("before"), 10_000, "the command before the kill");

      let elected: string | null = null;
      const advisory = tnc.subscribe(consumerLeaderElectedSubject(STREAM, DURABLE), {
        callback: (_err, m) => void (elected ??= electedLeader(m.string())),
      });
      await tnc.flush();
      await cluster.kill(leader);
      await eventually(() => elected, 30_000, "a new consumer leader");
      advisory.unsubscribe();
      // The stream may have lost its leader too: publish until it has a new one.
      await eventually(
        () => js.publish(subject, new Uint8Array(), { msgID: "after", timeout: 1_000 }),
        30_000,
        "the command stream to take a publish",
      );
      // A new pull reaches the new leader at once; the old one was lost with the dead node,
      // and waiting for it to be noticed takes missed heartbeats and a consumer info.
      await eventually(() => handled.includes("after"), 2_000, "the command after the election");
      expect(handled).toEqual(["before", "after"]);
      const repulls = lines.filter((l) => l.msg === "re-pulling commands").map((l) => l.reason);
      expect(repulls).toContain(`consumer leader elected: ${elected}`);
    } finally {
      await source.stop();
    }
  }, 60_000);
});
