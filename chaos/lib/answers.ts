/**
 * The answers the chaos mocks give, built so that any mix-up shows in the text itself: chunk
 * `k` of the `a`-th answer to the request tagged `tag` is the token `<tag>.a<a>.k<k>`. A mock
 * that samples answers differently each time it is asked (a new `a`), so a client that receives
 * chunks of two attempts, a chunk twice, a chunk of another request or a truncated answer can
 * be told apart from one that received exactly one whole answer.
 */

/** A request's tag: what its prompt carries and every chunk of its answer names. */
export const TAG = /^[a-z0-9]{1,32}$/;

/** The prompt of a chaos request (its own text: the tag and some words). */
export function promptOf(tag: string, extra = ""): string {
  return `chaos tag=${tag} ${extra}`.trim();
}

/** The tag a prompt carries, if it is a chaos prompt. */
export function tagOf(prompt: string): string | undefined {
  const t = /\btag=([a-z0-9]{1,32})\b/.exec(prompt)?.[1];
  return t && TAG.test(t) ? t : undefined;
}

/** Chunk `k` of answer `ask` to `tag`, as the mock sends it (a token and a space). */
export function chunkText(tag: string, ask: number, k: number): string {
  return `${tag}.a${ask}.k${k} `;
}

/** The whole answer `ask` to `tag` in `chunks` chunks. */
export function answerText(tag: string, ask: number, chunks: number): string {
  let s = "";
  for (let k = 0; k < chunks; k++) s += chunkText(tag, ask, k);
  return s;
}

/** What a received text is made of. */
export interface TextShape {
  /** Every token read as `<tag>.a<ask>.k<k>`, and nothing else in the text. */
  wellFormed: boolean;
  /** Tokens naming another request. */
  foreign: number;
  /** The answers (`a`) the tokens come from, in order of first appearance. */
  asks: number[];
  /** A chunk that appears more than once (same answer, same k). */
  duplicated: boolean;
  /** Chunks of one answer out of order, or a gap before the last one received. */
  outOfOrder: boolean;
  /** Chunks received. */
  chunks: number;
}

/** Reads `text` as chunks of answers to `tag`. */
export function shapeOf(tag: string, text: string): TextShape {
  const tokens = text.split(/\s+/).filter(Boolean);
  const seen = new Set<string>();
  const asks: number[] = [];
  const nextK = new Map<number, number>();
  const shape: TextShape = {
    wellFormed: text === "" || text.endsWith(" "),
    foreign: 0,
    asks,
    duplicated: false,
    outOfOrder: false,
    chunks: tokens.length,
  };
  for (const token of tokens) {
    const m = /^([a-z0-9]+)\.a(\d+)\.k(\d+)$/.exec(token);
    if (!m) {
      shape.wellFormed = false;
      continue;
    }
    if (m[1] !== tag) {
      shape.foreign++;
      continue;
    }
    const ask = Number(m[2]);
    const k = Number(m[3]);
    if (seen.has(`${ask}.${k}`)) shape.duplicated = true;
    seen.add(`${ask}.${k}`);
    if (!asks.includes(ask)) asks.push(ask);
    if ((nextK.get(ask) ?? 0) !== k) shape.outOfOrder = true;
    nextK.set(ask, k + 1);
  }
  return shape;
}

/** True when `text` is exactly one whole answer to `tag` of `chunks` chunks. */
export function isWholeAnswer(tag: string, text: string, chunks: number): boolean {
  const s = shapeOf(tag, text);
  return s.asks.length === 1 && text === answerText(tag, s.asks[0]!, chunks);
}

/** True when `text` is the start of one answer to `tag` (nothing mixed in). */
export function isPrefixOfOneAnswer(tag: string, text: string): boolean {
  const s = shapeOf(tag, text);
  if (text === "") return true;
  return s.wellFormed && s.asks.length === 1 && s.foreign === 0 && !s.duplicated && !s.outOfOrder;
}
