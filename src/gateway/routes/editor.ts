import type { FastifyInstance } from "fastify";
import { rateHeaders, type AdmissionDoor } from "../admission/door.js";
import { actionWork, type ActionWorkDeps } from "../editor/action-work.js";
import { clientOrigin, cursorValue, requestIdentity } from "../http/request-headers.js";
import type { ChatRuns } from "../runs/chat-runs.js";
import { ACTION_VIEW } from "../sse/action-view.js";
import { respondWithRun } from "../sse/respond-with-run.js";

/** What the editor routes need. */
export interface EditorRouteOptions {
  work: ActionWorkDeps;
  door: AdmissionDoor;
  runs: ChatRuns;
  keepAliveMs: number;
}

type NameParams = { Params: { name: string } };
type StreamParams = { Params: { id: string } };

/**
 * Editor actions over HTTP: `GET /v1/editor/actions` (the key's actions and their input schemas),
 * `POST /v1/editor/actions/{name}` (one run: SSE events with `stream: true`, else the collected
 * JSON result), and the stream of an action as a resource: its events (resumable with
 * `Last-Event-ID`) and cancel. Status is `GET /v1/chat/completions/{id}` (every stream has one).
 */
export async function editorRoutes(app: FastifyInstance, opts: EditorRouteOptions): Promise<void> {
  const { runs } = opts;

  app.get("/v1/editor/actions", async (req) => ({
    object: "list" as const,
    data: opts.work.actions.list(req.principal),
  }));

  app.post<NameParams>("/v1/editor/actions/:name", async (req, reply) => {
    const { run, rate, input } = await opts.door.admit(
      actionWork(opts.work, req.params.name),
      req.body,
      {
        principal: req.principal,
        correlationId: req.id,
        log: req.log,
        origin: clientOrigin(req),
        ...requestIdentity(req),
      },
    );
    reply.headers(rateHeaders(rate));
    reply.header("x-stream-id", run.streamId);
    return respondWithRun(
      req,
      reply,
      run,
      { after: 0, json: !input.stream, keepAliveMs: opts.keepAliveMs },
      ACTION_VIEW,
    );
  });

  app.get<StreamParams & { Querystring: { after?: string } }>(
    "/v1/editor/streams/:id/events",
    async (req, reply) => {
      const after =
        cursorValue(req.query.after, "after") ??
        cursorValue(req.headers["last-event-id"], "Last-Event-ID") ??
        0;
      const run = await runs.open(req.principal, req.params.id, req.log);
      await respondWithRun(
        req,
        reply,
        run,
        { after, json: false, keepAliveMs: opts.keepAliveMs },
        ACTION_VIEW,
      );
    },
  );

  app.post<StreamParams>("/v1/editor/streams/:id/cancel", async (req) =>
    runs.cancel(req.principal, req.params.id, "client_request", req.log),
  );
}
