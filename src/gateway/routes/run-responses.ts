import type { ServerResponse } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import { toOpenAIError } from "../../errors.js";
import { metrics } from "../../observability/metrics.js";
import type { ChatRun, RunReader } from "../runs/chat-run.js";
import { firstChunkTimer } from "../runs/first-chunk.js";
import type { ChatRuns } from "../runs/chat-runs.js";
import { collectRun, streamRunAsSse } from "../sse/chat-sse.js";
import type { SseOptions } from "../sse/run-sse.js";

/** How a surface presents a run over HTTP: as SSE, or collected into one JSON body. */
export interface RunView {
  stream(reader: RunReader, res: ServerResponse, opts: SseOptions): Promise<void>;
  collect(reader: RunReader): Promise<unknown>;
  /** The error event written when the stream breaks after its first byte. */
  streamError(err: unknown): string;
}

/** OpenAI chat: chunks, or the final `chat.completion`. */
export const CHAT_VIEW: RunView = {
  stream: streamRunAsSse,
  collect: collectRun,
  streamError: (err) => `data: ${JSON.stringify(toOpenAIError(err).body)}\n\n`,
};

/**
 * Reads `run` for one HTTP response: SSE after `after` deltas, or (`json`) the collected result,
 * both as `view` presents them (OpenAI chat by default). The reader leaves when the response
 * closes, whatever the reason; the registry then decides (grace, cancel) for the run. Before the
 * first byte, errors go to the error handler, so they keep their real status.
 */
export async function respondWithRun(
  req: FastifyRequest,
  reply: FastifyReply,
  runs: ChatRuns,
  run: ChatRun,
  opts: { after: number; json: boolean; keepAliveMs: number; headersSent?: boolean },
  view: RunView = CHAT_VIEW,
): Promise<unknown> {
  const reader = runs.attach(run, opts.after);
  // Watch the response, not the request: for a POST the request's 'close' fires as soon as
  // the body has been read (CLIENTS.md, "Disconnects and time").
  reply.raw.once("close", () => reader.leave());
  if (opts.json) return view.collect(reader);
  const streamClosed = metrics.streamOpened("sse");
  reply.raw.once("close", streamClosed);
  let hijacked = opts.headersSent === true;
  try {
    await view.stream(reader, reply.raw, {
      keepAliveMs: opts.keepAliveMs,
      // Headers set on the reply so far (rate limits) go out with the hijacked response too.
      headers: {
        ...(reply.getHeaders() as Record<string, string>),
        "x-stream-id": run.streamId,
        "x-request-id": req.id,
      },
      takeOver: () => {
        hijacked = true;
        reply.hijack();
      },
      resumed: opts.after > 0,
      headersSent: opts.headersSent === true,
      // A new stream's wait for its first chunk, from the request's arrival (not for resumes).
      firstChunk: firstChunkTimer(
        "sse",
        opts.after === 0 && req.method === "POST"
          ? performance.now() - reply.elapsedTime
          : undefined,
      ),
    });
  } catch (err) {
    if (!hijacked) throw err;
    req.log.error({ err, stream_id: run.streamId }, "stream failed");
    if (!reply.raw.writableEnded) reply.raw.end(view.streamError(err));
  }
  return undefined;
}
