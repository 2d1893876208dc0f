import { randomUUID } from "node:crypto";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { isSubjectToken, type ModelList } from "../../contracts/index.js";
import type { CapabilityCatalog } from "../catalog.js";
import { NotFoundError, toOpenAIError } from "../errors.js";
import type { ReadinessCheck, TokenVerifier } from "../ports.js";
import { authenticate } from "./auth.js";
import { ChatService, type ChatServiceDeps } from "./chat-service.js";
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
}

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
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit ?? 512 * 1024,
    // A client-supplied request id becomes the correlation id when it is a safe token.
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && isSubjectToken(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: "correlation_id" }),
  });
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

  app.register(async (v1) => {
    v1.addHook("onRequest", async (req) => {
      req.principal = await authenticate(req, deps.verifier);
    });

    v1.get("/v1/models", async (): Promise<ModelList> => ({
      object: "list",
      data: deps.catalog.list().map((c) => ({
        id: c.id,
        object: "model",
        created: CATALOG_CREATED,
        owned_by: c.owned_by ?? c.context,
      })),
    }));

    v1.post("/v1/chat/completions", async (req, reply) => {
      const principal = req.principal!;
      const input = chat.parse(req.body);
      const run = await chat.start(input, principal, req.id, req.log, clientOrigin(req.headers));
      reply.header("x-stream-id", run.streamId);
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
      let hijacked = false;
      try {
        await streamRun(run, res, {
          keepAliveMs: deps.keepAliveMs ?? 15_000,
          headers: { "x-stream-id": run.streamId, "x-request-id": req.id },
          takeOver: () => {
            hijacked = true;
            reply.hijack();
          },
        });
      } catch (err) {
        // Nothing written yet: the error handler answers with the real status.
        if (!hijacked) throw err;
        req.log.error({ err, stream_id: run.streamId }, "stream failed");
        if (!res.writableEnded) res.end(`data: ${JSON.stringify(toOpenAIError(err).body)}\n\n`);
      } finally {
        run.results.close();
      }
    });
  });

  return app;
}
