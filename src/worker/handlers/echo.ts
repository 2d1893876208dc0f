import type {
  ChatCommandPayload,
  ChatCompletedPayload,
  ChatMessage,
} from "../../../contracts/index.js";
import { sleep } from "../../sleep.js";
import type { ChatHandler, HandlerContext } from "../handler.js";

/** The text of a message: a string, or its text parts joined. */
export function messageText(message: ChatMessage): string {
  const content = message.content;
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content
    .map((p) => (p.type === "text" && typeof p.text === "string" ? p.text : ""))
    .join("");
}

/** Splits text into words, each with the whitespace after it; leading space rides with the first. */
export function wordsWithSpace(text: string): string[] {
  const words: string[] = text.match(/\S+\s*/g) ?? [];
  const lead = /^\s+/.exec(text)?.[0] ?? "";
  if (lead && words.length > 0) words[0] = lead + words[0];
  else if (lead) words.push(lead);
  return words;
}

const countWords = (text: string) => text.match(/\S+/g)?.length ?? 0;

/**
 * The built-in `echo` handler: answers with the last user message, one chunk per word. Usage is
 * counted in words. `delayMs` waits between chunks (to exercise streaming and disconnects).
 */
export function echoHandler(delayMs = 0): ChatHandler {
  return {
    name: "echo",
    sideEffects: "none",
    async handle(command: ChatCommandPayload, ctx: HandlerContext): Promise<ChatCompletedPayload> {
      const lastUser = [...command.messages].reverse().find((m) => m.role === "user");
      const text = lastUser ? messageText(lastUser) : "";
      const words = wordsWithSpace(text);
      for (let i = 0; i < words.length; i++) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        if (delayMs > 0 && i > 0) await sleep(delayMs, ctx.signal);
        await ctx.emit({ content: words[i] });
      }
      const prompt = command.messages.reduce((n, m) => n + countWords(messageText(m)), 0);
      const completion = countWords(text);
      return {
        message: { role: "assistant", content: text },
        finish_reason: "stop",
        usage: {
          prompt_tokens: prompt,
          completion_tokens: completion,
          total_tokens: prompt + completion,
        },
      };
    },
  };
}
