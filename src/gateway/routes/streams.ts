import type { FastifyInstance } from "fastify";
import { cursorValue } from "../http/request-headers.js";
import { streamIdOfResponse } from "../responses/ids.js";
import type { ChatRuns } from "../runs/chat-runs.js";
import { respondWithRun } from "../sse/respond-with-run.js";

type StreamParams = { Params: { id: string } };

/**
 * `chatcmpl-<stream id>` (what `chat.completions.retrieve()` sends), `resp_<stream id>` (the run
 * behind a response) or a bare stream id.
 */
const streamIdOf = (id: string) =>
  id.startsWith("chatcmpl-") ? id.slice(9) : (streamIdOfResponse(id) ?? id);

/**
 * A stream as a resource, from any gateway instance: its status and stored completion, its
 * events (replayed after a cursor, then live), and cancel. Another tenant's stream and a
 * missing one get the same 404.
 */
export async function streamRoutes(
  app: FastifyInstance,
  opts: { runs: ChatRuns; keepAliveMs: number },
): Promise<void> {
  const { runs } = opts;

  app.get<StreamParams>("/v1/chat/completions/:id", async (req) =>
    runs.status(req.principal, streamIdOf(req.params.id)),
  );

  // Resume: `Last-Event-ID` (what EventSource sends back), `?starting_after=N` or `?after=N`
  // skip the first N chunks. Reading does not own the stream: only the last reader anywhere
  // leaving a plain stream stops it (after the cancel grace).
  app.get<StreamParams & { Querystring: { after?: string; starting_after?: string } }>(
    "/v1/chat/completions/:id/events",
    async (req, reply) => {
      const after =
        cursorValue(req.query.starting_after, "starting_after") ??
        cursorValue(req.query.after, "after") ??
        cursorValue(req.headers["last-event-id"], "Last-Event-ID") ??
        0;
      const run = await runs.open(req.principal, streamIdOf(req.params.id), req.log);
      await respondWithRun(req, reply, run, {
        after,
        json: false,
        keepAliveMs: opts.keepAliveMs,
      });
    },
  );

  app.post<StreamParams>("/v1/chat/completions/:id/cancel", async (req) =>
    runs.cancel(req.principal, streamIdOf(req.params.id), "client_request", req.log),
  );
}
