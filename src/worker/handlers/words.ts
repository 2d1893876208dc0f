import { sleep } from "../../sleep.js";
import type { HandlerContext } from "../handler.js";

/** Splits text into words, each with the whitespace after it; leading space rides with the first. */
export function wordsWithSpace(text: string): string[] {
  const words: string[] = text.match(/\S+\s*/g) ?? [];
  const lead = /^\s+/.exec(text)?.[0] ?? "";
  if (lead && words.length > 0) words[0] = lead + words[0];
  else if (lead) words.push(lead);
  return words;
}

export const countWords = (text: string) => text.match(/\S+/g)?.length ?? 0;

/** Emits `text` one word per delta, `delayMs` apart; stops when the work is cancelled. */
export async function streamWords(text: string, ctx: HandlerContext, delayMs: number) {
  const words = wordsWithSpace(text);
  for (let i = 0; i < words.length; i++) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (delayMs > 0 && i > 0) await sleep(delayMs, ctx.signal);
    await ctx.emit({ content: words[i] });
  }
}
