import type {
  ChatCommandPayload,
  ChatCompletedPayload,
  ChatMessage,
} from "../../../contracts/index.js";
import type { ChatHandler, HandlerContext } from "../handler.js";
import { echoAction } from "./echo-actions.js";
import { countWords, streamWords } from "./words.js";

/** The text of a message: a string, or its text parts joined. */
export function messageText(message: ChatMessage): string {
  const content = message.content;
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content
    .map((p) => (p.type === "text" && typeof p.text === "string" ? p.text : ""))
    .join("");
}

export { wordsWithSpace } from "./words.js";

/**
 * The built-in `echo` handler: answers with the last user message, one chunk per word, and every
 * editor action deterministically (see {@link echoAction}). Usage is counted in words. `delayMs`
 * waits between chunks (to exercise streaming and disconnects).
 */
export function echoHandler(delayMs = 0): ChatHandler {
  return {
    name: "echo",
    sideEffects: "none",
    async handle(command: ChatCommandPayload, ctx: HandlerContext): Promise<ChatCompletedPayload> {
      const lastUser = [...command.messages].reverse().find((m) => m.role === "user");
      const text = lastUser ? messageText(lastUser) : "";
      await streamWords(text, ctx, delayMs);
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
    handleAction: (command, ctx) => echoAction(command, ctx, delayMs),
  };
}
