import type { ServerResponse } from "node:http";
import { once } from "node:events";
import type { ChatCompletion } from "../../contracts/index.js";
import { CapabilityFailedError, toOpenAIError } from "../errors.js";
import type { ChatRun } from "./chat-service.js";
import { OpenAIFormatter, SSE_DONE, sseData } from "./openai-format.js";

/** Headers every SSE response sends: no caching, no proxy buffering. */
export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;

/** Writes respecting backpressure; resolves false if the client has gone. */
async function write(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (!res.write(text)) {
    await Promise.race([once(res, "drain"), once(res, "close")]);
  }
  return !res.destroyed;
}

/**
 * Streams a run as OpenAI chunks: a role chunk, content chunks, a finish chunk, the usage chunk
 * when asked for, `[DONE]`. A `failed` event becomes `data: {"error":…}` and a clean close.
 * Events that arrived together are written together (one write, one syscall).
 * Returns when the stream is finished or the client has left.
 */
export async function streamRun(run: ChatRun, res: ServerResponse): Promise<void> {
  const fmt = new OpenAIFormatter(run);
  const includeUsage = run.request.stream_options?.include_usage === true;
  if (!(await write(res, sseData(fmt.chunk({ role: "assistant", content: "" }))))) return;
  for await (const first of run.results) {
    let out = "";
    let finished = false;
    for (const event of [first, ...run.results.takeQueued()]) {
      if (event.kind === "delta") {
        out += sseData(fmt.deltaChunk(event.payload));
        continue;
      }
      if (event.kind === "completed") {
        out += sseData(fmt.chunk({}, event.payload.finish_reason));
        if (includeUsage) out += sseData(fmt.usageChunk(event.payload.usage));
        out += SSE_DONE;
      } else {
        const { error } = event.payload;
        const failure = new CapabilityFailedError(
          error.message,
          error.status,
          error.type,
          error.code,
        );
        out += sseData(toOpenAIError(failure).body);
      }
      finished = true;
      break;
    }
    if (finished) {
      // The last data rides with the end of the response: one write fewer.
      if (!res.destroyed) res.end(out);
      return;
    }
    if (!(await write(res, out))) return;
  }
  res.end();
}

/** Waits for the terminal event; throws {@link CapabilityFailedError} for a `failed` one. */
export async function collectRun(run: ChatRun): Promise<ChatCompletion> {
  for await (const event of run.results) {
    if (event.kind === "completed") return new OpenAIFormatter(run).completion(event.payload);
    if (event.kind === "failed") {
      const { error } = event.payload;
      throw new CapabilityFailedError(error.message, error.status, error.type, error.code);
    }
  }
  throw new CapabilityFailedError("The result stream ended early.", 502, "server_error", null);
}
