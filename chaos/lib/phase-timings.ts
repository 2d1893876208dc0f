import type { ContextName } from "../../contracts/index.js";
import type { Election } from "./election-watch.js";
import type { RequestReport } from "./load-plan.js";
import { resumedAfter } from "./verdict.js";

/** When each phase of a node loss ended, in ms after the kill. */
export interface PhaseTimings {
  elections: { what: string; leader: string; afterMs: number }[];
  /** The last of them (null: no election seen). */
  lastElectionMs: number | null;
  /** Per context: the first command a worker claimed after the last election. */
  firstClaimMs: Partial<Record<ContextName, number>>;
  /** Per context whose workers' consumer got a new leader: that election, and the first claim after it. */
  consumerClaimMs: Partial<Record<ContextName, { electedMs: number; claimMs: number | null }>>;
  /** Requests open at the last election: their next chunk after it (sorted, ms). */
  nextChunkMs: number[];
}

/**
 * The phases of a node loss from the kill at `faultAt`: the leader elections that followed,
 * the first command claimed by a worker after the last one (`claims`: every claim's epoch ms,
 * per context) and how soon open requests got chunks again after it.
 */
export function phaseTimings(
  faultAt: number,
  elections: Election[],
  claims: Partial<Record<ContextName, number[]>>,
  reports: RequestReport[],
): PhaseTimings {
  const after = elections.filter((e) => e.at >= faultAt);
  const last = after.length > 0 ? Math.max(...after.map((e) => e.at)) : null;
  const firstClaimMs: Partial<Record<ContextName, number>> = {};
  if (last !== null) {
    for (const [ctx, times] of Object.entries(claims) as [ContextName, number[]][]) {
      const first = times.filter((t) => t >= last).sort((a, b) => a - b)[0];
      if (first !== undefined) firstClaimMs[ctx] = first - faultAt;
    }
  }
  const consumerClaimMs: PhaseTimings["consumerClaimMs"] = {};
  for (const [ctx, times] of Object.entries(claims) as [ContextName, number[]][]) {
    const e = after.find(
      (x) => x.what.startsWith("consumer ") && x.what.endsWith(`_${ctx}_workers`),
    );
    if (!e) continue;
    const first = times.filter((t) => t >= e.at).sort((a, b) => a - b)[0];
    consumerClaimMs[ctx] = {
      electedMs: e.at - faultAt,
      claimMs: first === undefined ? null : first - faultAt,
    };
  }
  const resumed = last === null ? null : resumedAfter(reports, faultAt, last);
  return {
    elections: after.map((e) => ({ what: e.what, leader: e.leader, afterMs: e.at - faultAt })),
    lastElectionMs: last === null ? null : last - faultAt,
    firstClaimMs,
    consumerClaimMs,
    nextChunkMs: resumed ? [...resumed.inFlight, ...resumed.waiting].sort((a, b) => a - b) : [],
  };
}

const s = (ms: number) => `+${(ms / 1000).toFixed(2)} s`;

/** The scenario's note lines for `p`. */
export function phaseNotes(p: PhaseTimings): string[] {
  if (p.lastElectionMs === null) return ["no leader election seen after the kill"];
  const last = p.lastElectionMs;
  const claims = Object.entries(p.firstClaimMs)
    .map(([ctx, ms]) => `${ctx} ${s(ms)} (${((ms - last) / 1000).toFixed(2)} s after it)`)
    .join(", ");
  const consumers = Object.entries(p.consumerClaimMs)
    .map(
      ([ctx, c]) =>
        `${ctx} consumer elected ${s(c.electedMs)}, first claim ${c.claimMs === null ? "none" : `${s(c.claimMs)} (${((c.claimMs - c.electedMs) / 1000).toFixed(2)} s after it)`}`,
    )
    .join("; ");
  const n = p.nextChunkMs;
  const chunks =
    n.length === 0
      ? "no request open at it"
      : `p50 ${(n[Math.floor((n.length - 1) / 2)]! / 1000).toFixed(2)} s, max ${(n.at(-1)! / 1000).toFixed(2)} s (${n.length} requests)`;
  return [
    `elections after the kill: ${p.elections.map((e) => `${e.what} ${s(e.afterMs)} (${e.leader})`).join(", ")}`,
    ...(consumers ? [`workers after their consumer's election: ${consumers}`] : []),
    `last election ${s(last)}; first command claimed by a worker after it: ${claims || "none"}`,
    `requests open at the last election, their next chunk after it: ${chunks}`,
  ];
}
