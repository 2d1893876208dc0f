import { isPrefixOfOneAnswer, isWholeAnswer, shapeOf } from "./answers.js";
import type { RequestReport } from "./load-plan.js";

/** The terminal event stored for a stream (the durable answer), as the suite reads it. */
export type StoredTerminal =
  { kind: "completed"; content: string } | { kind: "failed"; code: string | null };

/**
 * What one request came to, as the table counts it:
 * - `exact`: `[DONE]` after exactly the stored answer, which is one whole answer;
 * - `clear-error`: an HTTP error or an error event, after nothing mixed;
 * - `interrupted-unkept`: the error event said the answer was interrupted and is to be read
 *   whole from the stream's status, yet no complete answer is stored (the work was dropped);
 * - `mixed`: text that is not one answer's start (two attempts spliced, a chunk twice, another
 *   request's chunk), or `[DONE]` after something other than the stored answer;
 * - `lost`: neither an answer nor an error reached the client, and nothing is stored either;
 * - `unanswered`: neither reached the client although an answer is stored (the client gave up).
 */
export type Verdict =
  "exact" | "clear-error" | "interrupted-unkept" | "mixed" | "lost" | "unanswered";

export function verdictOf(
  report: RequestReport,
  stored: StoredTerminal | undefined,
  chunks: number,
): { verdict: Verdict; why?: string } {
  const { tag, text } = report;
  if (!isPrefixOfOneAnswer(tag, text)) {
    const s = shapeOf(tag, text);
    const why = [
      s.asks.length > 1 ? `chunks of answers ${s.asks.join(" and ")}` : "",
      s.duplicated ? "a chunk twice" : "",
      s.outOfOrder ? "chunks out of order" : "",
      s.foreign > 0 ? `${s.foreign} chunks of other requests` : "",
      s.wellFormed ? "" : "text that is no answer",
    ].filter(Boolean);
    return { verdict: "mixed", why: why.join(", ") };
  }
  switch (report.outcome) {
    case "done":
      if (
        stored?.kind === "completed" &&
        text === stored.content &&
        isWholeAnswer(tag, text, chunks)
      ) {
        return { verdict: "exact" };
      }
      return {
        verdict: "mixed",
        why:
          stored?.kind === "completed"
            ? "[DONE] after a text other than the stored answer"
            : `[DONE] but the stored outcome is ${stored ? `failed (${stored.code})` : "missing"}`,
      };
    case "error":
      if (report.error?.code === "stream_interrupted" && stored?.kind !== "completed") {
        const what = stored ? `failed (${stored.code})` : "missing";
        return { verdict: "interrupted-unkept", why: `interrupted; the stored outcome is ${what}` };
      }
      return { verdict: "clear-error" };
    default:
      return stored
        ? { verdict: "unanswered", why: `client ${report.outcome}; the answer is stored` }
        : { verdict: "lost", why: `client ${report.outcome}; nothing stored` };
  }
}

/** How long requests waited after a fault, at worst each. */
export interface Stall {
  /** Requests running at the fault or started after it. */
  requests: number;
  p50Ms: number;
  maxMs: number;
}

/**
 * For each request not ended before `faultAt`: its longest wait after the fault, between two of
 * its moments (its start, each chunk, its end), counting only waits that end after the fault: a
 * stream in flight that stalled, and a request sent during the outage that waited for its first
 * chunk. A healthy request's longest wait is its time to first chunk or its chunk interval.
 */
export function stallAt(reports: RequestReport[], faultAt: number): Stall {
  const stalls: number[] = [];
  for (const r of reports) {
    if (r.endedAt <= faultAt) continue;
    const moments = [r.startedAt, ...r.chunkTimes, r.endedAt];
    let longest = 0;
    for (let i = 1; i < moments.length; i++) {
      if (moments[i]! > faultAt) longest = Math.max(longest, moments[i]! - moments[i - 1]!);
    }
    stalls.push(longest);
  }
  stalls.sort((a, b) => a - b);
  return {
    requests: stalls.length,
    p50Ms: stalls[Math.floor((stalls.length - 1) / 2)] ?? 0,
    maxMs: stalls.at(-1) ?? 0,
  };
}

/** How soon requests moved again once the failed server was back. */
export interface Resumption {
  /** Streams that had received chunks before the fault and were still open at the recovery. */
  inFlight: number[];
  /** Requests with no chunk yet at the fault (sent just before it, or during the outage). */
  waiting: number[];
}

/**
 * For each request still open when the server came back: the time from then (or from its start,
 * if it started later) to its next chunk. Requests that received nothing afterwards (an error)
 * are left out: the verdict columns count them.
 */
export function resumedAfter(
  reports: RequestReport[],
  faultAt: number,
  recoveredAt: number,
): Resumption {
  const out: Resumption = { inFlight: [], waiting: [] };
  for (const r of reports) {
    if (r.endedAt <= recoveredAt) continue;
    const from = Math.max(recoveredAt, r.startedAt);
    const next = r.chunkTimes.find((t) => t > from);
    if (next === undefined) continue;
    const hadChunks = r.chunkTimes.some((t) => t < faultAt);
    (hadChunks ? out.inFlight : out.waiting).push(next - from);
  }
  out.inFlight.sort((a, b) => a - b);
  out.waiting.sort((a, b) => a - b);
  return out;
}

/** One line for the scenario's notes. */
export function recoveryNote(r: Resumption): string {
  const s = (ms: number[]) =>
    ms.length === 0
      ? "none"
      : `${(ms[Math.floor((ms.length - 1) / 2)]! / 1000).toFixed(1)} s / ${(ms.at(-1)! / 1000).toFixed(1)} s (${ms.length})`;
  return (
    `once the server was back, next chunk (p50 / max): streams in flight ${s(r.inFlight)}, ` +
    `requests not yet answered ${s(r.waiting)}`
  );
}
