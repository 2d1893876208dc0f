import type { FastifyInstance } from "fastify";
import type { ConversationInfo, ConversationRun } from "../../../contracts/index.js";
import { BadRequestError, NotFoundError } from "../../errors.js";
import type { ConversationDirectory, ConversationRunRecord } from "../../ports.js";
import { statusOf } from "../runs/stored-completion.js";
import { headerValue } from "../http/request-headers.js";

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** A positive integer query value up to `max`, `def` when absent, or a 400 naming it. */
function limitOf(raw: string | undefined, def: number, max: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new BadRequestError(`'limit' must be an integer from 1 to ${max}.`, "limit");
  }
  return n;
}

function runView(r: ConversationRunRecord): ConversationRun {
  const status = statusOf(r.terminal, r.cancelRequested, 0);
  const failure = r.terminal?.kind === "failed" ? r.terminal.payload.error : null;
  return {
    object: "conversation.run",
    id: `chatcmpl-${r.streamId}`,
    stream_id: r.streamId,
    model: r.model,
    created: seconds(r.createdAt),
    // Without deltas at hand a run that has not ended is reported as running.
    status: status === "queued" ? "in_progress" : status,
    request: r.request,
    result: r.terminal?.kind === "completed" ? r.terminal.payload : null,
    error: failure ? { message: failure.message, code: failure.code } : null,
  };
}

/**
 * A tenant's conversations as resources: the runs started with one `X-Conversation-Id`, in
 * order, with what started them and their stored outcome (`GET /v1/conversations/{id}/runs`),
 * and the conversations themselves, latest first (`GET /v1/conversations`, paged with
 * `before=<updated>`). Another tenant's conversation and a missing one get the same 404.
 */
export async function conversationRoutes(
  app: FastifyInstance,
  opts: { conversations: ConversationDirectory },
): Promise<void> {
  app.get<{ Params: { id: string }; Querystring: { limit?: string } }>(
    "/v1/conversations/:id/runs",
    async (req) => {
      const id = headerValue(req.params.id);
      const limit = limitOf(req.query.limit, 500, 2000);
      const runs = id ? await opts.conversations.runs(req.principal!.tenant, id, limit) : [];
      if (runs.length === 0) {
        throw new NotFoundError(
          `No conversation '${req.params.id.slice(0, 100)}' has runs here.`,
          "conversation_not_found",
          "id",
        );
      }
      return { object: "list" as const, data: runs.map(runView) };
    },
  );

  app.get<{ Querystring: { limit?: string; before?: string } }>(
    "/v1/conversations",
    async (req) => {
      const limit = limitOf(req.query.limit, 50, 200);
      const before = req.query.before === undefined ? undefined : Number(req.query.before);
      if (before !== undefined && !(Number.isInteger(before) && before > 0)) {
        throw new BadRequestError("'before' must be a positive integer (unix seconds).", "before");
      }
      const list = await opts.conversations.list(req.principal!.tenant, {
        limit,
        ...(before !== undefined ? { before: new Date(before * 1000) } : {}),
      });
      const data = list.map((c): ConversationInfo => ({
        object: "conversation",
        id: c.id,
        created: seconds(c.createdAt),
        updated: seconds(c.updatedAt),
        runs: c.runs,
        title: c.title,
        instructions: c.instructions,
      }));
      return { object: "list" as const, data, has_more: data.length === limit };
    },
  );
}
