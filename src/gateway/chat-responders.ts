import type { ServerResponse } from "node:http";
import { once } from "node:events";
import type { ChatCompletion, ChatResultEvent } from "../../contracts/index.js";
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

/** How a streamed response is opened, kept alive and written. */
export interface SseOptions {
  /** Idle interval after which a `: keep-alive` comment is sent. */
  keepAliveMs: number;
  /** Extra response headers (stream and request ids). */
  headers: Record<string, string>;
  /** Takes the response over from the framework; called once, before the first byte. */
  takeOver(): void;
  /** Deltas up to this seq were already delivered (a resume): skip them. */
  skipThrough?: number;
}

/** Writes respecting backpressure; resolves false if the client has gone. */
async function write(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (!res.write(text)) {
    await Promise.race([once(res, "drain"), once(res, "close")]);
  }
  return !res.destroyed;
}

/**
 * Streams a run as OpenAI chunks: role and content chunks, a finish chunk, the usage chunk when
 * asked for, `[DONE]`.
 *
 * The status line waits for the first event (or the first keep-alive), so a failure before any
 * output is a real HTTP error (429 with `retry-after`, 502…) that SDKs raise as typed errors:
 * this function then throws {@link CapabilityFailedError} without having written anything. A
 * failure after that becomes `data: {"error":…}` and a clean close. Events that arrived together
 * are written together. Returns when the stream is finished or the client has left.
 */
export async function streamRun(
  run: ChatRun,
  res: ServerResponse,
  opts: SseOptions,
): Promise<void> {
  const fmt = new OpenAIFormatter(run);
  const includeUsage = run.request.stream_options?.include_usage === true;
  let started = false;
  const open = (): string => {
    if (started) return "";
    started = true;
    opts.takeOver();
    res.writeHead(200, { ...SSE_HEADERS, ...opts.headers });
    return sseData(fmt.chunk({ role: "assistant", content: "" }));
  };
  // One self-re-arming timer; writes only move `lastWriteAt` (no timer churn per batch).
  let lastWriteAt = Date.now();
  let idle: NodeJS.Timeout | null = null;
  const armKeepAlive = (delay: number) => {
    idle = setTimeout(() => {
      const quietFor = Date.now() - lastWriteAt;
      if (res.destroyed) return;
      if (quietFor >= opts.keepAliveMs) {
        res.write(open() + ": keep-alive\n\n");
        lastWriteAt = Date.now();
        armKeepAlive(opts.keepAliveMs);
      } else armKeepAlive(opts.keepAliveMs - quietFor);
    }, delay);
  };
  armKeepAlive(opts.keepAliveMs);
  try {
    for await (const first of run.results) {
      const batch: ChatResultEvent[] = [first, ...run.results.takeQueued()];
      if (!started && first.kind === "failed") throw CapabilityFailedError.from(first.payload);
      let out = open();
      let finished = false;
      for (const event of batch) {
        if (event.kind === "delta") {
          if (event.seq > (opts.skipThrough ?? 0)) out += sseData(fmt.deltaChunk(event.payload));
          continue;
        }
        if (event.kind === "completed") {
          out += sseData(fmt.chunk({}, event.payload.finish_reason));
          if (includeUsage) out += sseData(fmt.usageChunk(event.payload.usage));
          out += SSE_DONE;
        } else {
          out += sseData(toOpenAIError(CapabilityFailedError.from(event.payload)).body);
        }
        finished = true;
        break;
      }
      if (finished) {
        // The last data rides with the end of the response: one write fewer.
        if (!res.destroyed) res.end(out);
        return;
      }
      lastWriteAt = Date.now();
      if (!(await write(res, out))) return;
    }
    if (started && !res.writableEnded) res.end();
  } finally {
    if (idle) clearTimeout(idle);
  }
}

/** Waits for the terminal event; throws {@link CapabilityFailedError} for a `failed` one. */
export async function collectRun(run: ChatRun): Promise<ChatCompletion> {
  for await (const event of run.results) {
    if (event.kind === "completed") return new OpenAIFormatter(run).completion(event.payload);
    if (event.kind === "failed") throw CapabilityFailedError.from(event.payload);
  }
  throw new CapabilityFailedError("The result stream ended early.", 502, "server_error", null);
}
