import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { CapabilityCatalog } from "../catalog.js";
import type { Config } from "../config.js";
import type { EventStreamRule } from "../domain-event-rules.js";
import { metrics } from "../observability/metrics.js";
import { healthRoutes } from "../observability/routes/health.js";
import { metricsRoutes } from "../observability/routes/metrics.js";
import type { StatusSource } from "../observability/status-report.js";
import type {
  ConversationDirectory,
  DomainEventSource,
  Principal,
  ReadinessCheck,
  ResultFeed,
  RevocationList,
  StreamDirectory,
  StreamPresence,
  TokenVerifier,
} from "../ports.js";
import { AdmissionDoor, limitKey, type RateState } from "./admission/door.js";
import { OverloadGuard, StreamCounter } from "./admission/limits.js";
import { chatWork } from "./chat/chat-work.js";
import { CommandWriter, type CommandWriterDeps } from "./commands/command-writer.js";
import { EditorActions } from "./editor/editor-actions.js";
import { DomainEvents } from "./events/domain-events.js";
import { authPlugin } from "./http/auth.js";
import { runsPlugin } from "./http/runs-plugin.js";
import { chatRoutes } from "./routes/chat.js";
import { conversationRoutes } from "./routes/conversations.js";
import { domainEventRoutes } from "./routes/domain-events.js";
import { editorRoutes } from "./routes/editor.js";
import { mcpRoutes } from "./routes/mcp.js";
import { responseRoutes } from "./routes/responses.js";
import { modelRoutes } from "./routes/models.js";
import { statusRoutes } from "./routes/status.js";
import { streamRoutes } from "./routes/streams.js";
import { websocketRoutes } from "./routes/websocket.js";
import { StoredResponses } from "./responses/stored-responses.js";
import { ChatRuns } from "./runs/chat-runs.js";
import { RunStarter } from "./runs/run-starter.js";
import { StoredRuns } from "./runs/stored-runs.js";
import { createGatewayServer } from "./server.js";

/** The settings the gateway app reads (declared, with their defaults, in src/config.ts). */
export type GatewaySettings = Pick<
  Config,
  | "limits"
  | "keepAliveMs"
  | "streamCancelGraceMs"
  | "outageWaitMs"
  | "websocket"
  | "mcpSessionIdleMs"
  | "shutdownGraceMs"
>;

/** What the HTTP surface needs. */
export interface GatewayAppDeps extends CommandWriterDeps {
  settings: GatewaySettings;
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
  bodyLimit: number;
  revocations?: RevocationList;
  /** True while the process shuts down (readiness turns false). */
  stopping?: () => boolean;
  /** Other services' event streams, for `/v1/events` and WebSocket event subscriptions. */
  domainEvents?: { source: DomainEventSource; rules: EventStreamRule[] } | undefined;
  /** What `GET /status` shows (admin keys only); absent: no status page. */
  status?: StatusSource | undefined;
}

/** A built gateway: its app (not listening yet), and its staged close. */
export interface Gateway {
  app: FastifyInstance;
  /** Stops accepting; open streams get `graceMs` before they are ended (see runsPlugin). */
  close(graceMs: number): Promise<void>;
}

/**
 * Builds the gateway (the composition root of the HTTP surface): the use cases and the one
 * admission door, then the routes as plugins — health, metrics and the status page; and under
 * `/v1` and `/mcp`, behind load shedding and authentication: models, chat, streams, editor
 * actions, MCP, domain events, WebSocket. Every surface runs its work through one
 * {@link ChatRuns}.
 */
export function buildGateway(deps: GatewayAppDeps): Gateway {
  const { settings, bodyLimit } = deps;
  const { limits } = settings;
  const app = createGatewayServer({
    log: deps.log,
    bodyLimit,
    receiveTimeoutMs: limits.receiveTimeoutMs,
  });
  let graceMs = settings.shutdownGraceMs;
  const writer = new CommandWriter(deps);
  const stored = new StoredRuns({ ...deps, directory: deps.streams });
  const runs = new ChatRuns({
    starter: new RunStarter({
      results: deps.results,
      directory: deps.streams,
      stored,
      deadlineMs: limits.requestDeadlineMs,
      writeWaitMs: settings.outageWaitMs,
    }),
    stored,
    results: deps.results,
    services: {
      cancelGraceMs: settings.streamCancelGraceMs,
      presence: deps.presence,
      writeCancel: (identity, reason, log) => writer.writeCancel(identity, reason, log),
      log: deps.log,
    },
    deadlineMs: limits.requestDeadlineMs,
  });
  const chat = chatWork({ catalog: deps.catalog, writer, limits });
  const responses = new StoredResponses({ runs, stored, writer, subjects: deps.subjects });
  const responseWorkDeps = {
    catalog: deps.catalog,
    writer,
    limits,
    link: (principal: Principal, id: string) => responses.link(principal, id),
  };
  const work = {
    actions: new EditorActions({ catalog: deps.catalog, limits }),
    subjects: deps.subjects,
    writer,
  };
  const overload = new OverloadGuard(limits.shedEventLoopDelayMs, limits.shedHeapRatio);
  // One count of open streams per key, whichever surface opened them.
  const streamSlots = new StreamCounter();
  const keepAliveMs = settings.keepAliveMs;

  app.register(runsPlugin, { runs, graceMs: () => graceMs, log: deps.log });
  app.addHook("onClose", async () => overload.close());
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
    v1.addHook("onRequest", async () => overload.check());
    await v1.register(authPlugin, { verifier: deps.verifier, revocations: deps.revocations });
    await v1.register(rateLimit, {
      global: false,
      // Cached per key; a key's own `rpm` claim wins over the default; 0 means unlimited.
      cache: 100_000,
      keyGenerator: (req) => limitKey(req.principal),
      max: (req) => req.principal.limits?.rpm ?? limits.defaultRpm,
      allowList: (req) => (req.principal.limits?.rpm ?? limits.defaultRpm) <= 0,
      timeWindow: 60_000,
    });
    const door = new AdmissionDoor({
      runs,
      streams: streamSlots,
      defaultMaxStreams: limits.defaultMaxStreams,
      takeRate: principalRate(v1.createRateLimit()),
    });
    await v1.register(modelRoutes, { catalog: deps.catalog });
    await v1.register(chatRoutes, { door, chat, keepAliveMs });
    await v1.register(responseRoutes, {
      work: responseWorkDeps,
      responses,
      door,
      runs,
      keepAliveMs,
    });
    await v1.register(streamRoutes, { runs, keepAliveMs });
    if (deps.conversations) {
      await v1.register(conversationRoutes, { conversations: deps.conversations });
    }
    await v1.register(editorRoutes, { work, door, runs, keepAliveMs });
    await v1.register(mcpRoutes, {
      tools: { catalog: deps.catalog, work, chat, door },
      sessions: { idleMs: settings.mcpSessionIdleMs, maxPerKey: 64, log: deps.log },
    });
    const events = deps.domainEvents
      ? new DomainEvents(deps.domainEvents.source, deps.domainEvents.rules, deps.subjects.namespace)
      : undefined;
    if (events) await v1.register(domainEventRoutes, { events, keepAliveMs });
    await v1.register(websocketRoutes, {
      door,
      chat,
      runs,
      events,
      revocations: deps.revocations,
      limits: settings.websocket,
      maxFrameBytes: bodyLimit,
    });
  });

  return {
    app,
    async close(ms) {
      graceMs = ms;
      await app.close();
    },
  };
}

/**
 * A key's rate, counted by @fastify/rate-limit's store whatever surface the work came through
 * (an MCP tool call or a WebSocket frame has no request of its own): its limiter reads only the
 * principal (key generator, max, allow list above) and the route's rate-limit config (none).
 */
function principalRate(
  limiter: (req: FastifyRequest) => Promise<RateState>,
): (principal: Principal) => Promise<RateState> {
  return (principal) =>
    limiter({ principal, routeOptions: { config: {} } } as unknown as FastifyRequest);
}
