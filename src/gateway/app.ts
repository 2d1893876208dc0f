import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import rateLimit from "@fastify/rate-limit";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { isSubjectToken } from "../../contracts/index.js";
import type { CapabilityCatalog } from "../catalog.js";
import { NotFoundError, toOpenAIError } from "../errors.js";
import type {
  ConversationDirectory,
  DomainEventSource,
  ReadinessCheck,
  RevocationList,
  StreamDirectory,
  StreamPresence,
  TokenVerifier,
} from "../ports.js";
import { authenticate } from "./auth.js";
import { ChatCommands, type ChatCommandsDeps } from "./chat-commands.js";
import { Admission, limitKey } from "./admission.js";
import { ChatAdmission } from "./chat-admission.js";
import { EditorActions } from "./editor/editor-actions.js";
import { DomainEvents } from "./events/domain-events.js";
import { OverloadGuard, StreamCounter } from "./limits.js";
import { chatRoutes } from "./routes/chat.js";
import { conversationRoutes } from "./routes/conversations.js";
import { domainEventRoutes } from "./routes/domain-events.js";
import { editorRoutes } from "./routes/editor.js";
import { mcpRoutes } from "./routes/mcp.js";
import { websocketRoutes } from "./routes/websocket.js";
import { healthRoutes } from "./routes/health.js";
import { metricsRoutes } from "./routes/metrics.js";
import { statusRoutes } from "./routes/status.js";
import { countRejection, instrumentHttp } from "./observability-hooks.js";
import { metrics } from "../observability/metrics.js";
import type { StatusSource } from "../observability/status-report.js";
import { traceIdOf, validTraceparent } from "../observability/tracing.js";
import { modelRoutes } from "./routes/models.js";
import { streamRoutes } from "./routes/streams.js";
import { ChatRuns } from "./runs/chat-runs.js";
import type { ResultFeed } from "../ports.js";
import type { EventStreamRule } from "../domain-event-rules.js";

/** What the HTTP surface needs. */
export interface GatewayAppDeps extends ChatCommandsDeps {
  verifier: TokenVerifier;
  readiness: ReadinessCheck[];
  catalog: CapabilityCatalog;
  results: ResultFeed;
  /** Finds a tenant's streams (status, resumes, retries). */
  streams: StreamDirectory;
  /** Finds a tenant's conversations (`X-Conversation-Id`); absent: no conversation routes. */
  conversations?: ConversationDirectory | undefined;
  /** Which instances read a stream (a stream is cancelled only when nobody reads it). */
  presence?: StreamPresence | undefined;
  /** Largest accepted request body, kept below the NATS max payload. */
  bodyLimit?: number;
  /** Idle interval between SSE keep-alive comments. */
  keepAliveMs?: number;
  revocations?: RevocationList;
  limits?: Partial<GatewayLimits>;
  /** How long a plain stream whose reader left keeps running for a resume (0 = cancel now). */
  cancelGraceMs?: number;
  /** How long a new request waits through an outage of its context's database (0 = not). */
  outageWaitMs?: number;
  /** True while the process shuts down (readiness turns false). */
  stopping?: () => boolean;
  /** Other services' event streams, for `/v1/events` and WebSocket event subscriptions. */
  domainEvents?: { source: DomainEventSource; rules: EventStreamRule[] } | undefined;
  /** WebSocket limits (see {@link SendQueueLimits}). */
  websocket?: Partial<WebSocketLimits>;
  /** How long an unused MCP session lives (its client then initializes again). */
  mcpSessionIdleMs?: number;
  /** What `GET /status` shows (admin keys only); absent: no status page. */
  status?: StatusSource | undefined;
}

/** Limits of one WebSocket. */
export interface WebSocketLimits {
  maxBufferedBytes: number;
  slowReaderMs: number;
  pingIntervalMs: number;
  maxSubscriptions: number;
}

const DEFAULT_WEBSOCKET: WebSocketLimits = {
  maxBufferedBytes: 4 * 1024 * 1024,
  slowReaderMs: 30_000,
  pingIntervalMs: 30_000,
  maxSubscriptions: 256,
};

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

/** A URL fit for logs: a key passed as `access_token` never reaches them. */
const loggableUrl = (url: string) => url.replace(/([?&]access_token=)[^&]*/g, "$1[redacted]");

declare module "fastify" {
  interface FastifyInstance {
    /** The running chats of this gateway instance. */
    chatRuns: ChatRuns;
  }
}

/**
 * Builds the gateway's fastify app (not listening): the error map, request logging, then the
 * routes as plugins (health; and under `/v1`, behind authentication and load shedding: models,
 * chat, streams, editor actions). Every surface runs chats and actions through one
 * {@link ChatRuns}.
 */
export function buildGatewayApp(deps: GatewayAppDeps): FastifyInstance {
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const keepAliveMs = deps.keepAliveMs ?? 15_000;
  const bodyLimit = deps.bodyLimit ?? 512 * 1024;
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit,
    // A client-supplied request id becomes the correlation id when it is a safe token; else
    // the trace id of a W3C traceparent, so logs and traces of one request share an id.
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      if (typeof given === "string" && isSubjectToken(given)) return given;
      return traceIdOf(validTraceparent(req.headers.traceparent)) ?? randomUUID();
    },
    // Requests are logged below, with keys passed in URLs redacted.
    logController: new LogController({
      requestIdLogLabel: "correlation_id",
      disableRequestLogging: true,
    }),
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
  const commands = new ChatCommands(deps);
  const runs = new ChatRuns({
    commands,
    catalog: deps.catalog,
    subjects: deps.subjects,
    results: deps.results,
    directory: deps.streams,
    presence: deps.presence,
    log: deps.log,
    cancelGraceMs: deps.cancelGraceMs ?? 0,
    writeWaitMs: deps.outageWaitMs ?? 0,
    deadlineMs: limits.requestDeadlineMs,
  });
  app.decorate("chatRuns", runs);
  const actions = new EditorActions({
    catalog: deps.catalog,
    subjects: deps.subjects,
    commands,
    runs,
    limits,
  });
  // One count of open streams per key, whichever surface opened them.
  const streamSlots = new StreamCounter();
  app.addHook("onClose", async () => {
    overload.close();
    runs.closeAll();
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, headers, body } = toOpenAIError(err, { bodyLimit });
    countRejection(err, status);
    if (status >= 500) req.log.error({ err }, "request failed");
    else req.log.info({ status, code: body.error.code }, body.error.message);
    void reply.status(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((req) => {
    throw new NotFoundError(`Unknown path ${req.method} ${req.url.split("?")[0]}`, "unknown_url");
  });
  app.addHook("onRequest", async (req) => {
    req.log.debug({ method: req.method, url: loggableUrl(req.url) }, "incoming request");
  });
  app.addHook("onSend", async (req, reply) => {
    reply.header("x-request-id", req.id);
  });
  app.addHook("onResponse", async (req, reply) => {
    // An upgrade refused with an HTTP answer (401…) arrived on a socket the HTTP server no
    // longer tracks: end it, or it would outlive the answer and hold up shutdown.
    if (req.headers.upgrade && reply.statusCode !== 101) req.raw.socket?.end();
    req.log.info(
      {
        method: req.method,
        url: loggableUrl(req.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request completed",
    );
  });

  instrumentHttp(app);
  app.register(healthRoutes, { readiness: deps.readiness, stopping: deps.stopping });
  if (metrics.enabled) app.register(metricsRoutes);
  if (deps.status) {
    app.register(statusRoutes, {
      status: deps.status,
      verifier: deps.verifier,
      revocations: deps.revocations,
    });
  }

  app.register(async (v1) => {
    await v1.register(rateLimit, {
      global: false,
      // Cached per key; a key's own `rpm` claim wins over the default; 0 means unlimited.
      cache: 100_000,
      keyGenerator: (req) => limitKey(req.principal!),
      max: (req) => req.principal?.limits?.rpm ?? limits.defaultRpm,
      allowList: (req) => (req.principal?.limits?.rpm ?? limits.defaultRpm) <= 0,
      timeWindow: 60_000,
    });
    const takeRate = v1.createRateLimit();
    const admission = new Admission({
      streams: streamSlots,
      defaultMaxStreams: limits.defaultMaxStreams,
      takeRate,
    });
    const chat = new ChatAdmission({ commands, runs, admission, limits });
    v1.addHook("onRequest", async (req) => {
      overload.check();
      req.principal = await authenticate(req, deps.verifier, deps.revocations);
    });
    await v1.register(modelRoutes, { catalog: deps.catalog });
    await v1.register(chatRoutes, { admission: chat, runs, keepAliveMs });
    await v1.register(streamRoutes, { runs, keepAliveMs });
    if (deps.conversations)
      await v1.register(conversationRoutes, { conversations: deps.conversations });
    await v1.register(editorRoutes, { actions, runs, admission, keepAliveMs });
    await v1.register(mcpRoutes, {
      tools: { catalog: deps.catalog, actions, commands, runs, admission, limits },
      sessions: { idleMs: deps.mcpSessionIdleMs ?? 30 * 60_000, maxPerKey: 64, log: deps.log },
      admission,
    });
    const events = deps.domainEvents
      ? new DomainEvents(deps.domainEvents.source, deps.domainEvents.rules, deps.subjects.namespace)
      : undefined;
    if (events) await v1.register(domainEventRoutes, { events, keepAliveMs });
    await v1.register(websocketRoutes, {
      admission: chat,
      runs,
      events,
      revocations: deps.revocations,
      limits: { ...DEFAULT_WEBSOCKET, ...deps.websocket },
      maxFrameBytes: bodyLimit,
    });
  });

  return app;
}
