import type { StoredStream } from "./invariants.js";
import type { RequestReport } from "./load-plan.js";
import { verdictOf, type Verdict } from "./verdict.js";

/** Every request's verdict counted, clear errors by code, and a few examples of failures. */
export function judge(
  reports: RequestReport[],
  streamIdOf: (report: RequestReport, index: number) => string,
  streams: Map<string, StoredStream>,
  chunks: number,
): { verdicts: Record<Verdict, number>; errorCodes: Record<string, number>; examples: string[] } {
  const verdicts: Record<Verdict, number> = {
    exact: 0,
    "clear-error": 0,
    "interrupted-unkept": 0,
    mixed: 0,
    lost: 0,
    unanswered: 0,
  };
  const errorCodes: Record<string, number> = {};
  const examples: string[] = [];
  for (const [i, r] of reports.entries()) {
    const streamId = streamIdOf(r, i);
    const v = verdictOf(r, streams.get(streamId)?.terminals[0], chunks);
    verdicts[v.verdict]++;
    if (v.verdict === "clear-error") {
      // An HTTP status, or `event` for an error event after the stream started.
      const how = r.error?.status === 200 ? "event" : String(r.error?.status);
      const code = `${how} ${r.error?.code ?? "no code"}`;
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    }
    if (v.why && examples.length < 4)
      examples.push(`${r.tag} (${streamId}): ${v.verdict}: ${v.why}`);
  }
  return { verdicts, errorCodes, examples };
}
