import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { isSubjectToken, type ModelList } from "../../contracts/index.js";
import type { CapabilityCatalog } from "../catalog.js";
import { BadRequestError, DeadlineExceededError, NotFoundError, toOpenAIError } from "../errors.js";
import type { Principal, ReadinessCheck, RevocationList, TokenVerifier } from "../ports.js";
import { assertPromptWithinLimits, OverloadGuard, RateLimiter, StreamCounter } from "./limits.js";
import { assertModelAccess, authenticate } from "./auth.js";
import { ChatService, type ChatRun, type ChatServiceDeps } from "./chat-service.js";
import { collectRun, streamRun } from "./chat-responders.js";

/** What the HTTP surface needs. */
export interface GatewayAppDeps extends ChatServiceDeps {
  verifier: TokenVerifier;
  readiness: ReadinessCheck[];
  catalog: CapabilityCatalog;
  /** Largest accepted request body, kept below the NATS max payload. */
  bodyLimit?: number;
  /** Idle interval between SSE keep-alive comments. */
  keepAliveMs?: number;
  revocations?: RevocationList;
  limits?: Partial<GatewayLimits>;
}

/** Per-request and per-key limits (0 = unlimited for the per-key ones). */
export interface GatewayLimits {
  maxMessages: number;
  maxPromptChars: number;
  defaultRpm: number;
  defaultMaxStreams: number;
  requestDeadlineMs: number;
  receiveTimeoutMs: number;
  shedEventLoopDelayMs: number;
  shedHeapRatio: number;
}

const DEFAULT_LIMITS: GatewayLimits = {
  maxMessages: 500,
  maxPromptChars: 400_000,
  defaultRpm: 0,
  defaultMaxStreams: 0,
  requestDeadlineMs: 600_000,
  receiveTimeoutMs: 30_000,
  shedEventLoopDelayMs: 500,
  shedHeapRatio: 0.92,
};

/** The key a per-key limit counts against. */
const limitKey = (p: Principal) => p.keyId ?? `tenant:${p.tenant}`;

const CATALOG_CREATED = Math.floor(Date.UTC(2026, 0, 1) / 1000);

/** A header value worth recording: one printable line of at most 256 characters. */
function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  // An unresolved placeholder ("{{LIBRECHAT_…}}") carries nothing.
  const ok = s && s.length <= 256 && /^[\x20-\x7e]+$/.test(s) && !/^\{\{.*\}\}$/.test(s);
  return ok ? s : undefined;
}

/**
 * The user and conversation a UI shell reports. LibreChat sends them when its endpoint config
 * maps `X-User-Id: "{{LIBRECHAT_USER_ID}}"` and
 * `X-Conversation-Id: "{{LIBRECHAT_BODY_CONVERSATIONID}}"` (see librechat.example.yaml).
 */
function clientOrigin(headers: Record<string, string | string[] | undefined>) {
  return {
    userId: headerValue(headers["x-user-id"]),
    conversationId: headerValue(headers["x-conversation-id"]),
  };
}

/** Builds the gateway's fastify app (not listening). */
export function buildGatewayApp(deps: GatewayAppDeps): FastifyInstance {
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit ?? 512 * 1024,
    // A client-supplied request id becomes the correlation id when it is a safe token.
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && isSubjectToken(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: "correlation_id" }),
    // Slow senders: the whole request (headers and body) must arrive within this time; Node
    // checks every `connectionsCheckingInterval`, so check often enough for the limit to hold.
    serverFactory: (handler) =>
      createServer(
        {
          requestTimeout: limits.receiveTimeoutMs,
          headersTimeout: Math.min(limits.receiveTimeoutMs, 60_000),
          connectionsCheckingInterval: Math.min(1_000, limits.receiveTimeoutMs),
        },
        handler,
      ),
  });
  const overload = new OverloadGuard(limits.shedEventLoopDelayMs, limits.shedHeapRatio);
  app.addHook("onClose", async () => overload.close());
  const rates = new RateLimiter();
  const streams = new StreamCounter();
  const chat = new ChatService(deps);

  app.setErrorHandler((err, req, reply) => {
    const { status, headers, body } = toOpenAIError(err);
    if (status >= 500) req.log.error({ err }, "request failed");
    else req.log.info({ status, code: body.error.code }, body.error.message);
    void reply.status(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((req) => {
    throw new NotFoundError(`Unknown path ${req.method} ${req.url.split("?")[0]}`, "unknown_url");
  });

  app.addHook("onSend", async (req, reply) => {
    reply.header("x-request-id", req.id);
  });

  app.get("/health/live", async () => ({ status: "ok" }));
  app.get("/health/ready", async (_req, reply) => {
    const results = await Promise.all(
      deps.readiness.map(async (c) => {
        try {
          await c.check();
          return { name: c.name, ok: true as const };
        } catch (err) {
          return { name: c.name, ok: false as const, error: (err as Error).message };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    return reply
      .status(ready ? 200 : 503)
      .send({ status: ready ? "ready" : "not_ready", checks: results });
  });

  /** Streams a run as SSE; before the first byte, errors go to the error handler instead. */
  async function respondWithStream(
    req: FastifyRequest,
    reply: FastifyReply,
    run: ChatRun,
    skipThrough = 0,
  ): Promise<void> {
    const res = reply.raw;
    let hijacked = false;
    try {
      await streamRun(run, res, {
        keepAliveMs: deps.keepAliveMs ?? 15_000,
        headers: { "x-stream-id": run.streamId, "x-request-id": req.id },
        takeOver: () => {
          hijacked = true;
          reply.hijack();
        },
        skipThrough,
      });
    } catch (err) {
      // Nothing written yet: the error handler answers with the real status.
      if (!hijacked) throw err;
      req.log.error({ err, stream_id: run.streamId }, "stream failed");
      if (!res.writableEnded) res.end(`data: ${JSON.stringify(toOpenAIError(err).body)}\n\n`);
    } finally {
      run.results.close();
    }
  }

  const visibleCapabilities = (p: Principal) =>
    deps.catalog.list().filter((c) => !p.models || p.models.includes(c.id));

  app.register(async (v1) => {
    v1.addHook("onRequest", async (req) => {
      overload.check();
      const principal = await authenticate(req, deps.verifier, deps.revocations);
      rates.take(limitKey(principal), principal.limits?.rpm ?? limits.defaultRpm);
      req.principal = principal;
    });

    v1.get("/v1/models", async (req): Promise<ModelList> => ({
      object: "list",
      data: visibleCapabilities(req.principal!).map((c) => ({
        id: c.id,
        object: "model",
        created: CATALOG_CREATED,
        owned_by: c.owned_by ?? c.context,
      })),
    }));

    // Resume: the caller's stream again, skipping the first `after` deltas (one per chunk).
    // Reading it does not own it: a resumed reader that leaves stops nothing.
    v1.get<{ Params: { stream_id: string }; Querystring: { after?: string } }>(
      "/v1/chat/completions/:stream_id/events",
      async (req, reply) => {
        const raw = req.query.after ?? req.headers["last-event-id"];
        const after = Number(Array.isArray(raw) ? raw[0] : (raw ?? 0));
        if (!Number.isInteger(after) || after < 0) {
          throw new BadRequestError("'after' must be a non-negative integer.", "after");
        }
        const run = await chat.resume(req.principal!, req.params.stream_id, req.log);
        reply.raw.on("close", () => run.results.close());
        await respondWithStream(req, reply, run, after);
      },
    );

    v1.post("/v1/chat/completions", async (req, reply) => {
      const principal = req.principal!;
      const input = chat.parse(req.body);
      assertModelAccess(principal, input.capability.id);
      assertPromptWithinLimits(input.request.messages, limits);
      const release = streams.acquire(
        limitKey(principal),
        principal.limits?.maxStreams ?? limits.defaultMaxStreams,
      );
      reply.raw.once("close", release);
      let run;
      try {
        run = await chat.start(input, principal, req.id, req.log, clientOrigin(req.headers));
      } catch (err) {
        release();
        throw err;
      }
      reply.header("x-stream-id", run.streamId);
      // The deadline: the reader gets a 504 (or an error event once streaming), and the work
      // is cancelled like a client that left.
      const deadline = setTimeout(() => {
        req.log.warn({ stream_id: run.streamId }, "request deadline passed");
        run.results.fail(new DeadlineExceededError(limits.requestDeadlineMs));
        void chat.cancel(run, "deadline exceeded", req.log);
      }, limits.requestDeadlineMs);
      reply.raw.once("close", () => clearTimeout(deadline));
      // Watch the response, not the request: for a POST the request's 'close' fires as soon
      // as the body has been read (CLIENTS.md, "Disconnects and time").
      const res = reply.raw;
      res.on("close", () => {
        if (res.writableFinished) return run.results.close();
        req.log.info({ stream_id: run.streamId }, "client left before the answer ended");
        void chat.cancel(run, "client disconnected", req.log);
      });
      if (input.request.stream !== true) {
        try {
          return await collectRun(run);
        } finally {
          run.results.close();
        }
      }
      await respondWithStream(req, reply, run);
    });
  });

  return app;
}
