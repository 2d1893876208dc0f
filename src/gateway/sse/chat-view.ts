import type { ServerResponse } from "node:http";
import type { ChatCompletion } from "../../../contracts/index.js";
import { CapabilityFailedError, GatewayStoppingError, toOpenAIError } from "../../errors.js";
import { OpenAIFormatter, SSE_DONE, sseData } from "../chat/openai-format.js";
import type { RunReader } from "../runs/run-reader.js";
import type { RunView } from "./run-view.js";
import { streamRun, type SseFormat, type SseOptions } from "./run-sse.js";

/** OpenAI chunks: role chunk, one chunk per delta, finish chunk, usage when asked, `[DONE]`. */
function chatFormat(reader: RunReader): SseFormat {
  const fmt = new OpenAIFormatter(reader.run.identity);
  const includeUsage = reader.run.identity.delivery.include_usage === true;
  return {
    opening: () => sseData(fmt.chunk({ role: "assistant", content: "" })),
    // Each delta's event carries `id: <seq>`, the resume cursor.
    delta: (d) => `id: ${d.seq}\ndata: ${fmt.deltaChunkJson(d.payload)}\n\n`,
    completed: (d) =>
      sseData(fmt.chunk({}, d.payload.finish_reason)) +
      (includeUsage ? sseData(fmt.usageChunk(d.payload.usage)) : "") +
      SSE_DONE,
    error: (err) => sseData(toOpenAIError(err).body),
  };
}

/**
 * Streams a run as OpenAI chunks (each delta's `id:` is its seq, for `Last-Event-ID`); see
 * {@link streamRun} for when errors keep their HTTP status and when they become
 * `data: {"error":…}`.
 */
function streamRunAsSse(reader: RunReader, res: ServerResponse, opts: SseOptions): Promise<void> {
  return streamRun(reader, res, opts, chatFormat(reader));
}

/** Waits for the terminal event; throws {@link CapabilityFailedError} for a `failed` one. */
async function collectRun(reader: RunReader): Promise<ChatCompletion> {
  const fmt = new OpenAIFormatter(reader.run.identity);
  for (let batch = await reader.next(); batch; batch = await reader.next()) {
    for (const d of batch) {
      if (d.kind === "completed") return fmt.completion(d.payload);
      if (d.kind === "failed") throw CapabilityFailedError.from(d.payload);
    }
  }
  throw new GatewayStoppingError(reader.run.streamId);
}

/** OpenAI chat: chunks, or the final `chat.completion`. */
export const CHAT_VIEW: RunView = {
  stream: streamRunAsSse,
  collect: collectRun,
  streamError: (err) => `data: ${JSON.stringify(toOpenAIError(err).body)}\n\n`,
};
