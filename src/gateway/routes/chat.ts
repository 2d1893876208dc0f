import type { FastifyInstance } from "fastify";
import { rateHeaders, type AdmissionDoor, type WorkKind } from "../admission/door.js";
import type { ChatInput } from "../commands/chat-request.js";
import { clientOrigin, requestIdentity } from "../http/request-headers.js";
import { WaitingStream } from "../http/waiting-stream.js";
import { CHAT_VIEW } from "../sse/chat-view.js";
import { respondWithRun } from "../sse/respond-with-run.js";

/**
 * `POST /v1/chat/completions`: streamed (SSE) or JSON, or `background: true` (202 at once with
 * the status object). `Idempotency-Key` or `X-Stream-Id` make a retry attach to the stream the
 * first attempt started.
 */
export async function chatRoutes(
  app: FastifyInstance,
  opts: { door: AdmissionDoor; chat: WorkKind<ChatInput, ChatInput>; keepAliveMs: number },
): Promise<void> {
  app.post("/v1/chat/completions", async (req, reply) => {
    const streaming = (req.body as { stream?: unknown } | null)?.stream === true;
    // A streamed request that waits (its context's database restarting) gets keep-alives.
    const waiting = streaming ? new WaitingStream(req, reply, opts.keepAliveMs) : null;
    let ticket;
    try {
      ticket = await opts.door.admit(opts.chat, req.body, {
        principal: req.principal,
        correlationId: req.id,
        log: req.log,
        origin: clientOrigin(req),
        onStreamId: (id) => waiting?.knowStreamId(id),
        ...requestIdentity(req),
      });
    } catch (err) {
      if (!waiting?.opened) throw err;
      // The stream is open already: the failure becomes its error event.
      reply.raw.end(CHAT_VIEW.streamError(err));
      return;
    } finally {
      waiting?.stop();
    }
    const { run, input, rate } = ticket;
    if (!waiting?.opened) reply.headers(rateHeaders(rate));
    reply.header("x-stream-id", run.streamId);
    const streamed = input.request.stream === true;
    if (run.background && !streamed) return reply.status(202).send(run.storedCompletion());
    return respondWithRun(req, reply, run, {
      after: 0,
      json: !streamed,
      keepAliveMs: opts.keepAliveMs,
      headersSent: waiting?.opened === true,
    });
  });
}
