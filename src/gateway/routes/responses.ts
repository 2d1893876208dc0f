import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BadRequestError } from "../../errors.js";
import { metrics } from "../../observability/metrics.js";
import { rateHeaders, type AdmissionDoor } from "../admission/door.js";
import { openSse } from "../http/raw-stream.js";
import { clientOrigin, cursorValue, requestIdentity } from "../http/request-headers.js";
import { responseObjectOf } from "../responses/event-renderer.js";
import { listInputItems, parseInputItemsQuery } from "../responses/input-items.js";
import type { ResponseContext } from "../responses/response-object.js";
import { responseWork, type ResponseWorkDeps } from "../responses/response-work.js";
import { renderInputs, type StoredResponses } from "../responses/stored-responses.js";
import type { ChatRun } from "../runs/chat-run.js";
import type { ChatRuns } from "../runs/chat-runs.js";
import { firstChunkTimer } from "../runs/first-chunk.js";
import { streamIdOf } from "../runs/run-starter.js";
import { collectResponse, streamResponse } from "../sse/response-view.js";

/** What the Responses routes need. */
export interface ResponseRouteOptions {
  work: ResponseWorkDeps;
  responses: StoredResponses;
  door: AdmissionDoor;
  runs: ChatRuns;
  keepAliveMs: number;
}

type IdParams = { Params: { id: string } };

/** `stream` of a query: `true`/`false` as text (the SDK sends `stream=true`). */
function streamQuery(v: unknown): boolean {
  if (v === undefined || v === "false") return false;
  if (v === "true") return true;
  throw new BadRequestError("'stream' must be true or false.", "stream");
}

/**
 * The Responses API (`/v1/responses`): one response is one durable run, named `resp_<stream id>`;
 * its events are a rendering of the run's stored deltas, so they are the same, with the same
 * `sequence_number`, on every instance and every replay. Create (JSON, stream, background),
 * retrieve (object, or `stream=true` after `starting_after`), cancel (background only), delete,
 * and the input items. Another tenant's response is exactly a missing one.
 */
export async function responseRoutes(
  app: FastifyInstance,
  opts: ResponseRouteOptions,
): Promise<void> {
  const { responses, runs } = opts;

  /** Streams `run` as events from the start, to a client holding those up to `startingAfter`. */
  const stream = (
    req: FastifyRequest,
    reply: FastifyReply,
    run: ChatRun,
    ctx: ResponseContext,
    startingAfter?: number,
  ) => {
    const reader = run.read(0);
    const streamClosed = metrics.streamOpened("responses");
    // One `on` listener ('close' comes once): see respondWithRun.
    reply.raw.on("close", () => {
      reader.leave();
      streamClosed();
    });
    return streamResponse(reader, reply.raw, {
      ctx,
      ...(startingAfter !== undefined ? { startingAfter } : {}),
      keepAliveMs: opts.keepAliveMs,
      open: () => openSse(req, reply, { "x-stream-id": run.streamId }),
      firstChunk: firstChunkTimer(
        "responses",
        req.method === "POST" ? performance.now() - reply.elapsedTime : undefined,
      ),
    });
  };

  app.post("/v1/responses", async (req, reply) => {
    const principal = req.principal;
    const identity = requestIdentity(req);
    // The response id names the run, so it is known before the run starts.
    const streamId = streamIdOf({ principal, correlationId: req.id, log: req.log, ...identity });
    const { run, input, rate } = await opts.door.admit(
      responseWork(opts.work, principal, streamId),
      req.body,
      {
        principal,
        correlationId: req.id,
        log: req.log,
        origin: clientOrigin(req),
        ...identity,
        streamId,
      },
    );
    reply.headers(rateHeaders(rate));
    reply.header("x-stream-id", run.streamId);
    const ctx: ResponseContext = {
      id: input.responseId,
      model: run.identity.model,
      createdAt: run.identity.created,
      background: run.background,
      record: input.record,
    };
    if (input.request.stream === true) {
      await stream(req, reply, run, ctx);
      return reply;
    }
    if (run.background) return responseObjectOf(ctx, renderInputs(run.deliveries));
    const reader = run.read(0);
    reply.raw.once("close", () => reader.leave());
    return collectResponse(reader, ctx);
  });

  app.get<IdParams & { Querystring: { stream?: string; starting_after?: string } }>(
    "/v1/responses/:id",
    async (req, reply) => {
      if (!streamQuery(req.query.stream)) return responses.object(req.principal, req.params.id);
      const startingAfter = cursorValue(req.query.starting_after, "starting_after");
      const { found, ctx } = await responses.find(req.principal, req.params.id);
      const run = await runs.open(req.principal, found.identity.streamId, req.log);
      await stream(req, reply, run, ctx, startingAfter);
      return reply;
    },
  );

  app.post<IdParams>("/v1/responses/:id/cancel", async (req) =>
    responses.cancel(req.principal, req.params.id, req.log),
  );

  app.delete<IdParams>("/v1/responses/:id", async (req) =>
    responses.delete(req.principal, req.params.id, req.log),
  );

  app.get<IdParams & { Querystring: Record<string, unknown> }>(
    "/v1/responses/:id/input_items",
    async (req) => {
      const query = parseInputItemsQuery(req.query);
      const { ctx } = await responses.find(req.principal, req.params.id);
      return listInputItems(ctx.record.input, query);
    },
  );
}
