import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Principal } from "../../ports.js";
import { assertModelAccess } from "../auth.js";
import type { ChatCommands } from "../chat-commands.js";
import { assertPromptWithinLimits, type StreamCounter } from "../limits.js";
import type { ChatRuns } from "../runs/chat-runs.js";
import { storedCompletion } from "../runs/stored-completion.js";
import { clientOrigin, requestIdentity } from "./request-headers.js";
import { respondWithRun } from "./run-responses.js";

/** What the chat route needs. */
export interface ChatRouteOptions {
  commands: ChatCommands;
  runs: ChatRuns;
  streams: StreamCounter;
  limits: { maxMessages: number; maxPromptChars: number; defaultMaxStreams: number };
  keepAliveMs: number;
  /** Counts one accepted request against the key's rate (429 when over). */
  takeRate(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  limitKey(p: Principal): string;
}

/**
 * `POST /v1/chat/completions`: streamed (SSE) or JSON, or `background: true` (202 at once with
 * the status object). `Idempotency-Key` or `X-Stream-Id` make a retry attach to the stream the
 * first attempt started.
 */
export async function chatRoutes(app: FastifyInstance, opts: ChatRouteOptions): Promise<void> {
  app.post("/v1/chat/completions", async (req, reply) => {
    const principal = req.principal!;
    const input = opts.commands.parse(req.body);
    assertModelAccess(principal, input.capability.id);
    assertPromptWithinLimits(input.request.messages, opts.limits);
    const identity = requestIdentity(req);
    // Only a request that will be accepted uses up the key's budget.
    await opts.takeRate(req, reply);
    const releaseSlot = opts.streams.acquire(
      opts.limitKey(principal),
      principal.limits?.maxStreams ?? opts.limits.defaultMaxStreams,
    );
    const run = await opts.runs.start(input, {
      principal,
      correlationId: req.id,
      log: req.log,
      origin: clientOrigin(req),
      releaseSlot,
      ...identity,
    });
    reply.header("x-stream-id", run.streamId);
    const streamed = input.request.stream === true;
    if (run.background && !streamed) {
      return reply
        .status(202)
        .send(storedCompletion(run.identity, run.deliveries, run.cancelRequested));
    }
    return respondWithRun(req, reply, opts.runs, run, {
      after: 0,
      json: !streamed,
      keepAliveMs: opts.keepAliveMs,
    });
  });
}
