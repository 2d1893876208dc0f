import { describe, expect, it } from "vitest";
import { electionOf } from "../../chaos/lib/election-watch.js";
import type { RequestReport } from "../../chaos/lib/load-plan.js";
import { phaseNotes, phaseTimings } from "../../chaos/lib/phase-timings.js";

const report = (startedAt: number, chunkTimes: number[], endedAt: number): RequestReport => ({
  tag: "t",
  streamId: "s",
  outcome: "done",
  text: "",
  exchanges: [],
  startedAt,
  endedAt,
  chunkTimes,
});

describe("the chaos suite's node-loss phases", () => {
  it("reads elections from the advisories' subjects and bodies", () => {
    expect(
      electionOf("$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.S.D", '{"leader":"n2"}', 5),
    ).toEqual({ what: "consumer S/D", leader: "n2", at: 5 });
    expect(electionOf("$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.S", "not json", 6)).toEqual({
      what: "stream S",
      leader: "?",
      at: 6,
    });
    expect(electionOf("$JS.EVENT.ADVISORY.API", "{}", 7)).toBeNull();
  });

  it("times claims and chunks from the last election after the kill", () => {
    const kill = 1_000;
    const p = phaseTimings(
      kill,
      [
        { what: "stream X_SEA_COMMANDS", leader: "n1", at: 500 }, // before the kill: ignored
        { what: "consumer X_SEA_COMMANDS/x_sea_workers", leader: "n2", at: 4_000 },
        { what: "stream X_SEA_EVENTS", leader: "n3", at: 6_000 },
      ],
      { sea: [900, 4_500, 6_300, 7_000], vibespro: [] },
      [
        report(0, [100, 800, 6_500, 6_900], 7_000), // open at the last election
        report(0, [100, 200], 300), // ended before the kill
      ],
    );
    expect(p.lastElectionMs).toBe(5_000);
    expect(p.elections.map((e) => e.afterMs)).toEqual([3_000, 5_000]);
    expect(p.firstClaimMs).toEqual({ sea: 5_300 });
    expect(p.consumerClaimMs).toEqual({ sea: { electedMs: 3_000, claimMs: 3_500 } });
    expect(p.nextChunkMs).toEqual([500]);
    expect(phaseNotes(p).join("\n")).toContain("first claim +3.50 s (0.50 s after it)");
  });

  it("says so when no election followed the kill", () => {
    expect(phaseNotes(phaseTimings(1_000, [], {}, []))).toEqual([
      "no leader election seen after the kill",
    ]);
  });
});
