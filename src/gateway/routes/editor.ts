import type { FastifyInstance } from "fastify";
import { BadRequestError } from "../../errors.js";
import { rateHeaders, type Admission } from "../admission.js";
import { ACTION_VIEW } from "../editor/action-view.js";
import type { EditorActions } from "../editor/editor-actions.js";
import type { ChatRuns } from "../runs/chat-runs.js";
import { clientOrigin, cursorValue, requestIdentity } from "./request-headers.js";
import { respondWithRun } from "./run-responses.js";

/** What the editor routes need. */
export interface EditorRouteOptions {
  actions: EditorActions;
  runs: ChatRuns;
  /** The key's rate and stream slots, shared with every surface. */
  admission: Admission;
  keepAliveMs: number;
}

type NameParams = { Params: { name: string } };
type StreamParams = { Params: { id: string } };

/** `stream` from a request body: absent (JSON) or a boolean. */
function streamFlag(body: unknown): boolean {
  const v = (body as { stream?: unknown } | null)?.stream;
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new BadRequestError("'stream' must be a boolean.", "stream");
  return v;
}

/**
 * Editor actions over HTTP: `GET /v1/editor/actions` (the key's actions and their input schemas),
 * `POST /v1/editor/actions/{name}` (one run: SSE events with `stream: true`, else the collected
 * JSON result), and the stream of an action as a resource: its events (resumable with
 * `Last-Event-ID`) and cancel. Status is `GET /v1/chat/completions/{id}` (every stream has one).
 */
export async function editorRoutes(app: FastifyInstance, opts: EditorRouteOptions): Promise<void> {
  const { actions, runs } = opts;

  app.get("/v1/editor/actions", async (req) => ({
    object: "list" as const,
    data: actions.list(req.principal!),
  }));

  app.post<NameParams>("/v1/editor/actions/:name", async (req, reply) => {
    const principal = req.principal!;
    const action = actions.find(principal, req.params.name);
    const stream = streamFlag(req.body);
    const input = actions.parseInput(action, req.body);
    const identity = requestIdentity(req);
    reply.headers(rateHeaders(await opts.admission.rate(req)));
    const releaseSlot = opts.admission.slot(principal);
    const run = await actions.start(action, input, {
      principal,
      correlationId: req.id,
      log: req.log,
      origin: clientOrigin(req),
      releaseSlot,
      ...identity,
    });
    reply.header("x-stream-id", run.streamId);
    return respondWithRun(
      req,
      reply,
      runs,
      run,
      { after: 0, json: !stream, keepAliveMs: opts.keepAliveMs },
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
      const run = await runs.open(req.principal!, req.params.id, req.log);
      await respondWithRun(
        req,
        reply,
        runs,
        run,
        { after, json: false, keepAliveMs: opts.keepAliveMs },
        ACTION_VIEW,
      );
    },
  );

  app.post<StreamParams>("/v1/editor/streams/:id/cancel", async (req) =>
    runs.cancel(req.principal!, req.params.id, "cancelled by the client", req.log),
  );
}
