import { describe, expect, it } from "vitest";
import {
  whenAbandoned,
  whenLastReaderLeaves,
  type LeaveAction,
  type LeaveState,
} from "../../src/gateway/runs/leave-policy.js";

const plain: LeaveState = {
  readers: 0,
  finished: false,
  closed: false,
  background: false,
  runsToEnd: false,
  waiting: false,
  cancelGraceMs: 0,
};

describe("when the last reader leaves", () => {
  const rows: [string, Partial<LeaveState>, LeaveAction][] = [
    ["a reader is still there", { readers: 1 }, "none"],
    ["a reader is still there, even once finished", { readers: 2, finished: true }, "none"],
    ["the run finished", { finished: true }, "close"],
    ["the run was closed", { closed: true }, "close"],
    ["finished wins over background", { finished: true, background: true }, "close"],
    ["a background run", { background: true }, "keep"],
    ["a background run, even with a grace", { background: true, cancelGraceMs: 5_000 }, "keep"],
    ["a reader was told to read it whole later", { runsToEnd: true }, "keep"],
    ["a plain run, no grace", {}, "abandon"],
    ["a plain run, no grace, already waiting", { waiting: true }, "abandon"],
    ["a plain run with a grace", { cancelGraceMs: 5_000 }, "wait"],
    ["a plain run with a grace already running", { cancelGraceMs: 5_000, waiting: true }, "none"],
  ];
  it.each(rows)("%s", (_, state, expected) => {
    expect(whenLastReaderLeaves({ ...plain, ...state })).toBe(expected);
  });
});

describe("when a run is abandoned", () => {
  const base = {
    readers: 0,
    finished: false,
    closed: false,
    readElsewhere: false,
    cancelRequested: false,
  };
  const rows: [string, Partial<typeof base>, ReturnType<typeof whenAbandoned>][] = [
    ["nobody reads it anywhere: cancel", {}, "cancel"],
    ["a reader came back meanwhile", { readers: 1 }, "none"],
    ["it was closed meanwhile (shutdown)", { closed: true }, "none"],
    ["it is read on another instance", { readElsewhere: true }, "close"],
    ["read elsewhere wins over finished", { readElsewhere: true, finished: true }, "close"],
    ["it finished meanwhile", { finished: true }, "none"],
    ["a cancel was written already", { cancelRequested: true }, "close"],
  ];
  it.each(rows)("%s", (_, state, expected) => {
    expect(whenAbandoned({ ...base, ...state })).toBe(expected);
  });
});
