import {
  DIAGNOSTIC_SEVERITIES,
  type Diagnostic,
  type DiagnosticSeverity,
} from "../../contracts/index.js";
import type { TextLines } from "./text-positions.js";

/** The body of the first fenced code block (``` or ~~~, with or without a language), if any. */
export function firstCodeBlock(answer: string): string | null {
  const m = /(^|\n)[ \t]*(`{3,}|~{3,})[^\n]*\n([\s\S]*?)\n[ \t]*\2[ \t]*(\n|$)/.exec(answer);
  return m ? m[3]! : null;
}

/**
 * Diagnostics from an answer that lists one problem per line as `<line>: <severity>: <message>`
 * (1-based lines, as the default prompt asks); each covers its whole line. Lines in another shape
 * and line numbers outside the document are skipped.
 */
export function diagnosticLines(answer: string, doc: TextLines): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const raw of answer.split(/\r?\n/)) {
    const m = /^\s*(?:line\s*)?(\d+)\s*:\s*([a-z]+)\s*:\s*(.+?)\s*$/i.exec(raw);
    if (!m) continue;
    const line = Number(m[1]) - 1;
    const severity = m[2]!.toLowerCase();
    if (line < 0 || line >= doc.lineCount) continue;
    if (!(DIAGNOSTIC_SEVERITIES as readonly string[]).includes(severity)) continue;
    out.push({
      range: {
        start: { line, character: 0 },
        end: { line, character: doc.line(line).length },
      },
      severity: severity as DiagnosticSeverity,
      message: m[3]!,
    });
  }
  return out;
}
