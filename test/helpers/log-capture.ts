import { pino } from "pino";
import type { Log } from "../../src/log.js";

/** One structured log line as pino writes it. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A logger that keeps every line (info and above) for a test to read. */
export function capturingLog(): { log: Log; lines: LogLine[]; errors(): LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino(
    { level: "info" },
    { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  );
  // pino's level 50 is `error`, 60 `fatal`.
  return { log, lines, errors: () => lines.filter((l) => l.level >= 50) };
}
