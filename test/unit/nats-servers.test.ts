import { describe, expect, it } from "vitest";
import { subjectSpace } from "../../contracts/index.js";
import { contextStreams } from "../../adapters/nats/streams.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { parseNatsServers } from "../../src/nats-servers.js";

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    return (err as ConfigError).problems;
  }
  return [];
};

describe("NATS_URL", () => {
  it("takes one seed, credentials apart", () => {
    expect(parseNatsServers("nats://u%40x:p%2Cw@10.0.0.1:4222")).toEqual({
      ok: true,
      value: { servers: ["nats://10.0.0.1:4222"], user: "u@x", pass: "p,w" },
    });
    expect(parseNatsServers("nats://s3cret@h:4222")).toEqual({
      ok: true,
      value: { servers: ["nats://h:4222"], token: "s3cret" },
    });
  });

  it("takes a comma-separated list of seeds, in order, spaces allowed", () => {
    expect(parseNatsServers("nats://a:4222, nats://b:4223,tls://c")).toEqual({
      ok: true,
      value: { servers: ["nats://a:4222", "nats://b:4223", "tls://c"] },
    });
  });

  it("sends the credentials of the seeds that carry them, the same for all", () => {
    expect(parseNatsServers("nats://u:p@a:1,nats://b:2,nats://u:p@c:3")).toEqual({
      ok: true,
      value: { servers: ["nats://a:1", "nats://b:2", "nats://c:3"], user: "u", pass: "p" },
    });
    expect(parseNatsServers("nats://u:p@a:1,nats://v:q@b:2")).toEqual({
      ok: false,
      problems: ["seeds carry different credentials (the connection sends one set)"],
    });
  });

  it("names each bad seed", () => {
    expect(parseNatsServers("nats://a:1,http://b:2,,nats://c:99999")).toEqual({
      ok: false,
      problems: [
        "seed 2 must start with nats://, tls://, ws:// or wss://",
        "seed 3 must be a URL such as nats://host:4222",
        "seed 4 must be a URL such as nats://host:4222",
      ],
    });
    expect(parseNatsServers("ws://a:1,nats://b:2")).toMatchObject({
      ok: false,
      problems: ["mixes WebSocket (ws://, wss://) and TCP seeds"],
    });
  });

  it("is validated at boot: a list is one external NATS, problems are NATS_URL's", () => {
    const config = loadConfig({ NATS_URL: "nats://a:4222,nats://b:4222" });
    expect(config.natsUrl).toBe("nats://a:4222,nats://b:4222");
    expect(config.embedded.nats).toBe(false);
    expect(problemsOf({ NATS_URL: "nats://a:4222,b:4222" })).toEqual([
      "NATS_URL: seed 2 must start with nats://, tls://, ws:// or wss://",
    ]);
  });
});

describe("JETSTREAM_REPLICAS", () => {
  it("sets the copies of every stream a context provisions (1 by default, at most 5)", () => {
    const subjects = subjectSpace("ns");
    expect(loadConfig({}).jetstreamReplicas).toBe(1);
    const replicas = loadConfig({ JETSTREAM_REPLICAS: "3" }).jetstreamReplicas;
    const streams = contextStreams(subjects, "sea", replicas);
    expect(streams.map((s) => s.num_replicas)).toEqual([3, 3, 3]);
    expect(contextStreams(subjects, "sea").map((s) => s.num_replicas)).toEqual([1, 1, 1]);
    expect(problemsOf({ JETSTREAM_REPLICAS: "7" })).toHaveLength(1);
  });
});
