import type { ServerResponse } from "node:http";
import { once } from "node:events";
import type { ChatCompletion } from "../../../contracts/index.js";
import {
  CapabilityFailedError,
  GatewayStoppingError,
  StreamInterruptedError,
  toOpenAIError,
} from "../../errors.js";
import { OpenAIFormatter, SSE_DONE, sseData } from "../openai-format.js";
import type { RunReader } from "../runs/chat-run.js";

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
  /** The reader resumes after chunks the client already holds. */
  resumed: boolean;
}

/** Writes respecting backpressure; resolves false if the client has gone. */
export async function writeSse(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (!res.write(text)) {
    await Promise.race([once(res, "drain"), once(res, "close")]);
  }
  return !res.destroyed;
}

/** One delta as an SSE event whose `id` is its seq (the resume cursor). */
const sseEvent = (seq: number, value: unknown) => `id: ${seq}\ndata: ${JSON.stringify(value)}\n\n`;

/**
 * Streams a run as OpenAI chunks: the role chunk, one chunk per delta (each event's `id:` is
 * its seq, for `Last-Event-ID`), the finish chunk, the usage chunk when asked for, `[DONE]`.
 *
 * The status line waits for the first event (or the first keep-alive), so a failure before any
 * output is a real HTTP error (429 with `retry-after`, 502…) that SDKs raise as typed errors:
 * this function then throws without having written anything. A failure after that becomes
 * `data: {"error":…}` and a clean close; so does an answer that changed attempt after some of it
 * was sent (never a mix of two attempts), and a gateway that is stopping (the client resumes
 * elsewhere). Events that arrived together are written together. Returns when the stream is
 * finished or the client has left.
 */
export async function streamRunAsSse(
  reader: RunReader,
  res: ServerResponse,
  opts: SseOptions,
): Promise<void> {
  const run = reader.run;
  const fmt = new OpenAIFormatter(run.identity);
  const includeUsage = run.identity.delivery.include_usage === true;
  let started = false;
  let holdsContent = opts.resumed;
  const open = (): string => {
    if (started) return "";
    started = true;
    opts.takeOver();
    res.writeHead(200, { ...SSE_HEADERS, ...opts.headers });
    return sseData(fmt.chunk({ role: "assistant", content: "" }));
  };
  const fail = (err: unknown) => {
    if (!started) throw err;
    if (!res.destroyed) res.end(sseData(toOpenAIError(err).body));
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
    for (;;) {
      const batch = await reader.next();
      if (batch === null) return fail(new GatewayStoppingError(run.streamId));
      const first = batch[0];
      if (!started && first?.kind === "failed") throw CapabilityFailedError.from(first.payload);
      let out = open();
      for (const d of batch) {
        if (d.kind === "reset") {
          if (holdsContent) {
            if (out) res.write(out);
            return fail(new StreamInterruptedError(run.streamId));
          }
          continue;
        }
        if (d.kind === "delta") {
          out += sseEvent(d.seq, fmt.deltaChunk(d.payload));
          holdsContent = true;
          continue;
        }
        if (d.kind === "completed") {
          out += sseData(fmt.chunk({}, d.payload.finish_reason));
          if (includeUsage) out += sseData(fmt.usageChunk(d.payload.usage));
          out += SSE_DONE;
        } else {
          out += sseData(toOpenAIError(CapabilityFailedError.from(d.payload)).body);
        }
        // The last data rides with the end of the response: one write fewer.
        if (!res.destroyed) res.end(out);
        return;
      }
      lastWriteAt = Date.now();
      if (!(await writeSse(res, out))) return;
    }
  } catch (err) {
    fail(err);
  } finally {
    if (idle) clearTimeout(idle);
  }
}

/** Waits for the terminal event; throws {@link CapabilityFailedError} for a `failed` one. */
export async function collectRun(reader: RunReader): Promise<ChatCompletion> {
  const fmt = new OpenAIFormatter(reader.run.identity);
  for (let batch = await reader.next(); batch; batch = await reader.next()) {
    for (const d of batch) {
      if (d.kind === "completed") return fmt.completion(d.payload);
      if (d.kind === "failed") throw CapabilityFailedError.from(d.payload);
    }
  }
  throw new GatewayStoppingError(reader.run.streamId);
}
