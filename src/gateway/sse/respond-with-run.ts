import type { FastifyReply, FastifyRequest } from "fastify";
import { metrics } from "../../observability/metrics.js";
import { openSse } from "../http/raw-stream.js";
import type { ChatRun } from "../runs/chat-run.js";
import { firstChunkTimer } from "../runs/first-chunk.js";
import { CHAT_VIEW } from "./chat-view.js";
import type { RunView } from "./run-view.js";

/**
 * Reads `run` for one HTTP response: SSE after `after` deltas, or (`json`) the collected result,
 * both as `view` presents them (OpenAI chat by default). The reader leaves when the response
 * closes, whatever the reason; the run then decides (grace, cancel) for itself. Before the
 * first byte, errors go to the error handler, so they keep their real status.
 */
export async function respondWithRun(
  req: FastifyRequest,
  reply: FastifyReply,
  run: ChatRun,
  opts: { after: number; json: boolean; keepAliveMs: number; headersSent?: boolean },
  view: RunView = CHAT_VIEW,
): Promise<unknown> {
  const reader = run.read(opts.after);
  // Watch the response, not the request: for a POST the request's 'close' fires as soon as
  // the body has been read (CLIENTS.md, "Disconnects and time"). One listener, and `on` rather
  // than `once` ('close' comes once): each `once` keeps a wrapper for the life of the response,
  // and an SSE response lives as long as its stream.
  if (opts.json) {
    reply.raw.on("close", () => reader.leave());
    try {
      return await view.collect(reader);
    } catch (err) {
      // The client left before the answer ended: nobody to answer, and nothing went wrong
      // here (the run decides what its leaving means).
      if (!reader.hasLeft) throw err;
      req.log.info({ stream_id: run.streamId }, "client left before the answer ended");
      reply.hijack();
      return undefined;
    }
  }
  const streamClosed = metrics.streamOpened("sse");
  reply.raw.on("close", () => {
    reader.leave();
    streamClosed();
  });
  let hijacked = opts.headersSent === true;
  try {
    await view.stream(reader, reply.raw, {
      keepAliveMs: opts.keepAliveMs,
      open: () => {
        hijacked = true;
        openSse(req, reply, { "x-stream-id": run.streamId });
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
