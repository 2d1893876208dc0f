import { ConsumerDebugEvents, ConsumerEvents } from "nats";
import { describe, expect, it } from "vitest";
import {
  consumerLeaderElectedSubject,
  electedLeader,
  streamLeaderElectedSubject,
} from "../../adapters/nats/leader-elected.js";
import { pullStatusAction } from "../../adapters/nats/pull-status.js";

describe("what the command source does with its pull's status events", () => {
  it("re-pulls when the pull is lost, and shows it", () => {
    expect(pullStatusAction({ type: ConsumerEvents.HeartbeatsMissed, data: 2 })).toEqual({
      level: "info",
      repull: true,
    });
    expect(
      pullStatusAction({ type: ConsumerDebugEvents.DebugEvent, data: "409 Leadership Change" }),
    ).toEqual({ level: "info", repull: true });
  });

  it("shows a missing consumer, stream or responder without re-pulling into it", () => {
    for (const type of [
      ConsumerEvents.ConsumerNotFound,
      ConsumerEvents.StreamNotFound,
      ConsumerEvents.ConsumerDeleted,
      ConsumerEvents.NoResponders,
    ]) {
      expect(pullStatusAction({ type, data: 1 })).toEqual({ level: "info", repull: false });
    }
  });

  it("keeps what happens in normal running at debug", () => {
    for (const [type, data] of [
      [ConsumerDebugEvents.Next, { batch: 10 }],
      [ConsumerDebugEvents.Discard, { msgsLeft: 10, bytesLeft: 0 }],
      [ConsumerDebugEvents.DebugEvent, "408 Request Timeout"],
      [ConsumerDebugEvents.Reset, ""],
    ] as const) {
      expect(pullStatusAction({ type, data })).toEqual({ level: "debug", repull: false });
    }
  });
});

describe("leader-elected advisories", () => {
  it("are published on the stream's and the durable's own subjects", () => {
    expect(streamLeaderElectedSubject("SEA_COMMANDS")).toBe(
      "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.SEA_COMMANDS",
    );
    expect(consumerLeaderElectedSubject("SEA_COMMANDS", "sea_workers")).toBe(
      "$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.SEA_COMMANDS.sea_workers",
    );
  });

  it("name the new leader", () => {
    expect(
      electedLeader(
        '{"type":"io.nats.jetstream.advisory.v1.consumer_leader_elected","leader":"n2"}',
      ),
    ).toBe("n2");
    expect(electedLeader('{"leader":""}')).toBeNull();
    expect(electedLeader("null")).toBeNull();
    expect(electedLeader("{")).toBeNull();
  });
});
