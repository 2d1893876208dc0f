import type { Position, Range } from "../../contracts/index.js";

/**
 * LSP positions in a text: lines split at `\n`, `\r\n` or `\r`; characters are UTF-16 code
 * units, which is what JavaScript string indices count, so offsets need no conversion.
 */
export class TextLines {
  /** Offset of the first character of each line. */
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 /* \r */ && text.charCodeAt(i + 1) === 10) i++;
      if (c === 10 || c === 13) this.starts.push(i + 1);
    }
  }

  get lineCount(): number {
    return this.starts.length;
  }

  /** A line's text without its line break. */
  line(n: number): string {
    const start = this.starts[n] ?? this.text.length;
    const next = this.starts[n + 1] ?? this.text.length;
    return this.text.slice(start, next).replace(/\r?\n$|\r$/, "");
  }

  /**
   * `p` as a place in the text: a character one past its line's end (what Neovim sends for the
   * end of a line selection) is the line's end, as LSP says; null if `p` lies further out.
   */
  clamp(p: Position): Position | null {
    if (p.line >= this.lineCount) return null;
    const length = this.line(p.line).length;
    if (p.character > length + 1) return null;
    return { line: p.line, character: Math.min(p.character, length) };
  }

  /** The offset of a position; one past a line's end is clamped to its end (as LSP says). */
  offsetAt(p: Position): number {
    if (p.line >= this.lineCount) return this.text.length;
    return this.starts[p.line]! + Math.min(p.character, this.line(p.line).length);
  }

  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo]! };
  }

  /** The text of a range. */
  slice(r: Range): string {
    return this.text.slice(this.offsetAt(r.start), this.offsetAt(r.end));
  }

  /** The range of the whole text. */
  get whole(): Range {
    return { start: { line: 0, character: 0 }, end: this.positionAt(this.text.length) };
  }

  /** The text of the `n` lines before a range's first line and after its last line. */
  around(r: Range, n: number): { before: string; after: string } {
    const from = Math.max(0, r.start.line - n);
    const to = Math.min(this.lineCount - 1, r.end.line + n);
    const before = this.text.slice(this.starts[from]!, this.offsetAt(r.start));
    const after = this.text.slice(
      this.offsetAt(r.end),
      this.offsetAt({ line: to, character: Infinity }),
    );
    return { before, after };
  }
}

/** True if `a` is not after `b`. */
export function notAfter(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character <= b.character);
}
