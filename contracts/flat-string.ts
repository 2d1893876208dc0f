/**
 * `s` as one flat string.
 *
 * V8 keeps a string built by concatenation (`+`, template literals) as a tree of cons cells, and
 * keeps the tree for as long as the string lives: a result subject built so takes about 640 bytes
 * of heap, 125 once flat. A gateway holds several such strings for each open stream for the
 * stream's whole life (subjects of its subscriptions, a chunk template), so the builders of those
 * strings return them flat. Copying through a buffer is the one way that does not rely on when
 * V8 chooses to flatten; it costs a fraction of a microsecond, once per stream. For well-formed
 * text only (a lone surrogate would come back as U+FFFD): subjects are ASCII tokens, and JSON
 * text escapes lone surrogates.
 */
export function flatString(s: string): string {
  return Buffer.from(s, "utf8").toString("utf8");
}
