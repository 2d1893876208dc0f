import type { CapabilityCatalog } from "../../catalog.js";
import { ModelNotFoundError } from "../../errors.js";
import type { WorkKind } from "../admission/door.js";
import { assertPromptWithinLimits } from "../admission/limits.js";
import { parseChatRequest, type ChatInput } from "../commands/chat-request.js";
import type { CommandWriter } from "../commands/command-writer.js";
import { runDelivery } from "../runs/run-spec.js";

/** What a chat needs to be admitted and written. */
export interface ChatWorkDeps {
  catalog: CapabilityCatalog;
  writer: CommandWriter;
  /** The prompt limits every chat surface applies. */
  limits: { maxMessages: number; maxPromptChars: number };
}

/**
 * A Chat Completions request as work for the admission door (HTTP, WebSocket, MCP chat tools):
 * the body is validated and names its model; the prompt limits apply; it runs as the
 * `chat_completion` command of the model's context.
 */
export function chatWork(deps: ChatWorkDeps): WorkKind<ChatInput, ChatInput> {
  return {
    parse: (raw) => parseChatRequest(deps.catalog, raw),
    capability: (input) => input.capability,
    notFound: (input) => new ModelNotFoundError(input.request.model),
    validate: (input) => {
      assertPromptWithinLimits(input.request.messages, deps.limits);
      return input;
    },
    runSpec: (input, opts) => {
      // Everything but how it is delivered (`stream`, `stream_options`, `background`).
      const { stream, stream_options, background, ...answerInputs } = input.request;
      return {
        capability: input.capability,
        delivery: runDelivery({ background, includeUsage: stream_options?.include_usage }),
        answerInputs,
        write: (ids, delivery) => deps.writer.writeChat(input, ids, delivery, opts.origin ?? {}),
      };
    },
  };
}
