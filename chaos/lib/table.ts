import type { Stall, Verdict } from "./verdict.js";

/** One scenario's figures, as the table shows them. */
export interface ScenarioFigures {
  name: string;
  requests: number;
  verdicts: Record<Verdict, number>;
  /** Clear errors by code (`service_unavailable`, `stream_interrupted`, …). */
  errorCodes: Record<string, number>;
  /** Requests running at the fault or sent after it: how long they waited (null: no fault). */
  stall: Stall | null;
  /** Broken invariants, one line each. */
  invariants: string[];
}

const codes = (c: Record<string, number>) =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ×${n}`)
    .join(", ");

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The suite's table, as markdown. */
export function markdownTable(rows: ScenarioFigures[]): string {
  const lines = [
    "| scenario | requests | completed with exactly their text | clear errors | interrupted, answer not kept | lost | gave up, answer stored | spliced or duplicated | longest wait after the fault (p50 / max) | invariants |",
    "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |",
  ];
  for (const r of rows) {
    const errors = r.verdicts["clear-error"];
    lines.push(
      [
        "",
        r.name,
        r.requests,
        r.verdicts.exact,
        errors > 0 ? `${errors} (${codes(r.errorCodes)})` : "0",
        r.verdicts["interrupted-unkept"],
        r.verdicts.lost,
        r.verdicts.unanswered,
        r.verdicts.mixed,
        r.stall
          ? `${seconds(r.stall.p50Ms)} / ${seconds(r.stall.maxMs)} (${r.stall.requests} requests)`
          : "–",
        r.invariants.length === 0 ? "hold" : r.invariants.join("; "),
        "",
      ]
        .join(" | ")
        .trim(),
    );
  }
  return lines.join("\n");
}
