import type { FastifyReply, FastifyRequest } from "fastify";
import type { ChatCompletion } from "../../../contracts/index.js";
import { toOpenAIError } from "../../errors.js";
import type { ChatRun } from "../runs/chat-run.js";
import type { ChatRuns } from "../runs/chat-runs.js";
import { collectRun, streamRunAsSse } from "../sse/chat-sse.js";

/**
 * Reads `run` for one HTTP response: SSE after `after` chunks, or (`json`) the final
 * `chat.completion`. The reader leaves when the response closes, whatever the reason; the
 * registry then decides (grace, cancel) for the run. Before the first byte, errors go to the
 * error handler, so they keep their real status.
 */
export async function respondWithRun(
  req: FastifyRequest,
  reply: FastifyReply,
  runs: ChatRuns,
  run: ChatRun,
  opts: { after: number; json: boolean; keepAliveMs: number },
): Promise<ChatCompletion | undefined> {
  const reader = runs.attach(run, opts.after);
  // Watch the response, not the request: for a POST the request's 'close' fires as soon as
  // the body has been read (CLIENTS.md, "Disconnects and time").
  reply.raw.once("close", () => reader.leave());
  if (opts.json) return collectRun(reader);
  let hijacked = false;
  try {
    await streamRunAsSse(reader, reply.raw, {
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
    });
  } catch (err) {
    if (!hijacked) throw err;
    req.log.error({ err, stream_id: run.streamId }, "stream failed");
    if (!reply.raw.writableEnded)
      reply.raw.end(`data: ${JSON.stringify(toOpenAIError(err).body)}\n\n`);
  }
  return undefined;
}
