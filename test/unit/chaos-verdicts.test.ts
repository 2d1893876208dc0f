import { describe, expect, it } from "vitest";
import {
  answerText,
  chunkText,
  isPrefixOfOneAnswer,
  isWholeAnswer,
  promptOf,
  shapeOf,
  tagOf,
} from "../../chaos/lib/answers.js";
import { checkInvariants, type StoredStream } from "../../chaos/lib/invariants.js";
import type { RequestReport } from "../../chaos/lib/load-plan.js";
import { markdownTable } from "../../chaos/lib/table.js";
import { recoveryNote, resumedAfter, stallAt, verdictOf } from "../../chaos/lib/verdict.js";

/** The chaos suite's judgement of what a client saw (chaos/lib): no servers needed. */
const report = (over: Partial<RequestReport>): RequestReport => ({
  tag: "s1r7",
  streamId: "st",
  outcome: "done",
  text: "",
  exchanges: [],
  startedAt: 1_000,
  endedAt: 5_000,
  chunkTimes: [],
  ...over,
});

describe("chaos answers", () => {
  it("a prompt carries its tag; every chunk names tag, answer and position", () => {
    expect(tagOf(promptOf("s1r7", "ab12 poison"))).toBe("s1r7");
    expect(tagOf("no tag here")).toBeUndefined();
    expect(chunkText("s1r7", 2, 3)).toBe("s1r7.a2.k3 ");
    expect(answerText("s1r7", 1, 3)).toBe("s1r7.a1.k0 s1r7.a1.k1 s1r7.a1.k2 ");
  });

  it("tells one whole answer, its start, and every kind of mix apart", () => {
    const whole = answerText("s1r7", 2, 4);
    expect(isWholeAnswer("s1r7", whole, 4)).toBe(true);
    expect(isWholeAnswer("s1r7", whole, 5)).toBe(false);
    expect(isPrefixOfOneAnswer("s1r7", "s1r7.a2.k0 s1r7.a2.k1 ")).toBe(true);
    const spliced = "s1r7.a1.k0 s1r7.a1.k1 s1r7.a2.k2 s1r7.a2.k3 ";
    expect(shapeOf("s1r7", spliced)).toMatchObject({ asks: [1, 2], outOfOrder: true });
    expect(isPrefixOfOneAnswer("s1r7", spliced)).toBe(false);
    expect(shapeOf("s1r7", "s1r7.a1.k0 s1r7.a1.k0 ")).toMatchObject({ duplicated: true });
    expect(shapeOf("s1r7", "s1r7.a1.k0 s1r7.a1.k2 ")).toMatchObject({ outOfOrder: true });
    expect(shapeOf("s1r7", "s1r7.a1.k0 s1r8.a1.k1 ")).toMatchObject({ foreign: 1 });
    expect(shapeOf("s1r7", "s1r7.a1.k0 hello ")).toMatchObject({ wellFormed: false });
  });
});

describe("chaos verdicts", () => {
  const whole = answerText("s1r7", 2, 3);
  const stored = { kind: "completed" as const, content: whole };

  it("exact: [DONE] after exactly the stored answer", () => {
    expect(verdictOf(report({ text: whole }), stored, 3)).toEqual({ verdict: "exact" });
  });

  it("mixed: two attempts spliced, or [DONE] after another answer than the stored one", () => {
    const spliced = "s1r7.a1.k0 s1r7.a2.k1 s1r7.a2.k2 ";
    expect(verdictOf(report({ text: spliced }), stored, 3).verdict).toBe("mixed");
    const other = answerText("s1r7", 1, 3);
    expect(verdictOf(report({ text: other }), stored, 3)).toEqual({
      verdict: "mixed",
      why: "[DONE] after a text other than the stored answer",
    });
    expect(verdictOf(report({ text: whole }), undefined, 3).verdict).toBe("mixed");
  });

  it("clear error: an error after nothing mixed; lost or unanswered: neither", () => {
    const cut = "s1r7.a1.k0 ";
    const error = { status: 200, code: "stream_interrupted", message: "…" };
    expect(verdictOf(report({ text: cut, outcome: "error", error }), stored, 3).verdict).toBe(
      "clear-error",
    );
    expect(verdictOf(report({ text: cut, outcome: "broken" }), undefined, 3).verdict).toBe("lost");
    // Told to read the whole answer later, yet the work was dropped (cancelled).
    const cancelled = { kind: "failed" as const, code: "cancelled" };
    expect(verdictOf(report({ text: cut, outcome: "error", error }), cancelled, 3)).toEqual({
      verdict: "interrupted-unkept",
      why: "interrupted; the stored outcome is failed (cancelled)",
    });
    expect(verdictOf(report({ outcome: "timeout" }), stored, 3).verdict).toBe("unanswered");
  });

  it("stall: each request's longest wait that ends after the fault, in flight or sent after it", () => {
    const reports = [
      report({ startedAt: 0, endedAt: 9_000, chunkTimes: [100, 900, 5_900, 6_000] }), // 5 s
      report({ startedAt: 500, endedAt: 4_000, chunkTimes: [] }), // no chunk: start to end
      report({ startedAt: 0, endedAt: 800, chunkTimes: [100] }), // ended before the fault
      report({ startedAt: 2_000, endedAt: 9_000, chunkTimes: [8_000, 8_100] }), // sent after: 6 s
    ];
    expect(stallAt(reports, 1_000)).toEqual({ requests: 3, p50Ms: 5_000, maxMs: 6_000 });
  });

  it("times each open request's next chunk from the server's return (or its later start)", () => {
    const fault = 1_000;
    const back = 3_000;
    const reports = [
      report({ startedAt: 0, endedAt: 900, chunkTimes: [500] }), // done before the fault
      report({ startedAt: 0, endedAt: 2_900, chunkTimes: [500, 2_800] }), // done before the return
      report({ startedAt: 0, endedAt: 4_000, chunkTimes: [500, 3_400, 3_500] }), // in flight: 0.4 s
      report({ startedAt: 0, endedAt: 5_000, chunkTimes: [500, 3_900] }), // in flight: 0.9 s
      report({ startedAt: 2_000, endedAt: 5_000, chunkTimes: [3_600] }), // waiting: 0.6 s
      report({ startedAt: 3_500, endedAt: 5_000, chunkTimes: [3_700] }), // sent after: 0.2 s
      report({ startedAt: 2_000, endedAt: 5_000, outcome: "error" }), // no chunk: not timed
    ];
    const r = resumedAfter(reports, fault, back);
    expect(r).toEqual({ inFlight: [400, 900], waiting: [200, 600] });
    expect(recoveryNote(r)).toBe(
      "once the server was back, next chunk (p50 / max): streams in flight 0.4 s / 0.9 s (2), " +
        "requests not yet answered 0.2 s / 0.6 s (2)",
    );
  });
});

describe("chaos invariants and table", () => {
  const stream = (over: Partial<StoredStream>): StoredStream => ({
    context: "sea",
    streamId: "a",
    commandIds: ["c-a"],
    poison: false,
    tag: "s1r1",
    terminals: [{ kind: "completed", content: answerText("s1r1", 1, 2) }],
    processed: true,
    claims: 1,
    ...over,
  });

  it("names the streams that break each invariant", () => {
    const streams = new Map(
      [
        stream({}),
        stream({ streamId: "b", commandIds: ["c-b"], terminals: [] }),
        stream({ streamId: "c", commandIds: ["c-c", "c-c2"], poison: true }),
        stream({
          streamId: "d",
          commandIds: ["c-d"],
          processed: false,
          terminals: [{ kind: "completed", content: "s1r1.a1.k0 s1r1.a2.k1 " }],
        }),
      ].map((s) => [s.streamId, s]),
    );
    const r = checkInvariants(streams, ["c-c", "c-x"], { "c-a": 1, "c-d": 2 }, 2);
    expect(r).toEqual({
      terminalNotOne: ["b"],
      commandTwice: ["c"],
      unprocessed: ["d"],
      processedTwice: ["c-d"],
      dlqExtra: ["c-x"],
      dlqMissing: ["c-c2"],
      storedMixed: ["d"],
    });
  });

  it("prints one markdown row per scenario", () => {
    const table = markdownTable([
      {
        name: "worker kill",
        requests: 80,
        verdicts: {
          exact: 70,
          "clear-error": 10,
          "interrupted-unkept": 0,
          mixed: 0,
          lost: 0,
          unanswered: 0,
        },
        errorCodes: { "event stream_interrupted": 9, "503 service_unavailable": 1 },
        stall: { requests: 30, p50Ms: 120, maxMs: 4_600 },
        invariants: [],
      },
    ]);
    expect(table.split("\n")[2]).toBe(
      "| worker kill | 80 | 70 | 10 (event stream_interrupted ×9, 503 service_unavailable ×1) | 0 | 0 | 0 | 0 | 0.1 s / 4.6 s (30 requests) | hold |",
    );
  });
});
