import { z } from "zod";

/**
 * Positions, ranges, edits and diagnostics in a text document, as the Language Server Protocol
 * defines them, so editors apply them unchanged.
 *
 * Glossary:
 * - line: 0-based; lines end at `\n`, `\r\n` or `\r`.
 * - character: 0-based offset in the line counted in UTF-16 code units (LSP's default position
 *   encoding): an emoji such as 😀 counts 2, a CJK character such as 漢 counts 1. JavaScript string
 *   indices are UTF-16 too; Python handlers must convert (`len(s.encode("utf-16-le")) // 2`).
 * - range: `start` inclusive, `end` exclusive; `start` never after `end`.
 */

const MAX_LINE = 10_000_000;

export const PositionSchema = z.object({
  line: z.number().int().min(0).max(MAX_LINE),
  character: z.number().int().min(0).max(MAX_LINE),
});
export type Position = z.infer<typeof PositionSchema>;

export const RangeSchema = z.object({ start: PositionSchema, end: PositionSchema });
export type Range = z.infer<typeof RangeSchema>;

/**
 * Replace `range` of the file at `path` with `replacement`. An empty range inserts; a `path` that
 * does not exist yet with the range 0:0–0:0 creates the file (e.g. a generated test file).
 */
export const TextEditSchema = z.object({
  path: z.string().min(1).max(4096),
  range: RangeSchema,
  replacement: z.string(),
});
export type TextEdit = z.infer<typeof TextEditSchema>;

export const DIAGNOSTIC_SEVERITIES = ["error", "warning", "information", "hint"] as const;
export type DiagnosticSeverity = (typeof DIAGNOSTIC_SEVERITIES)[number];

/** A problem found in the document the action ran on (LSP's `Diagnostic`, severity by name). */
export const DiagnosticSchema = z.object({
  range: RangeSchema,
  severity: z.enum(DIAGNOSTIC_SEVERITIES),
  message: z.string().min(1),
  code: z.string().optional(),
});
export type Diagnostic = z.infer<typeof DiagnosticSchema>;
