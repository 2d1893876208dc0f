import type { FastifyInstance } from "fastify";
import { CONTEXTS, type ContextName } from "../contracts/index.js";
import { JetStreamBacklog } from "../adapters/nats/backlog-stats.js";
import { watchReconnects } from "../adapters/nats/reconnects.js";
import { PgBacklog } from "../adapters/postgres/backlog-stats.js";
import type { Config } from "../src/config.js";
import type { Log } from "../src/log.js";
import type { ContextSources } from "../src/observability/backlog.js";
import { GaugeSampler } from "../src/observability/gauge-sampler.js";
import { metrics } from "../src/observability/metrics.js";
import { buildRoleApp } from "../src/observability/role-app.js";
import {
  StatusReport,
  type ProcessHealth,
  type StatusSource,
} from "../src/observability/status-report.js";
import { StatusSeries } from "../src/observability/status-series.js";
import { installTracer, tracer } from "../src/observability/tracing.js";
import { readinessChecks } from "./readiness.js";
import { ROLES, type Role } from "./roles.js";
import type { Runtime } from "./runtime.js";

/**
 * Before anything is built: metrics on or off and the role label of the Node metrics, and the
 * tracer. The OpenTelemetry SDK is imported only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, so
 * a process without it never loads it.
 */
export async function configureTelemetry(config: Config, role: Role): Promise<void> {
  metrics.configure({ enabled: config.observability.metricsEnabled, role });
  const endpoint = config.observability.otlpEndpoint;
  if (endpoint) {
    const { otelTracer } = await import("../adapters/telemetry/otel-tracing.js");
    installTracer(otelTracer({ endpoint, role }));
  }
}

/** A process's gauges, health listener and status page data. */
export interface Observability {
  /** What the gateway's status page shows. */
  readonly status: StatusSource;
  /** Starts sampling, and the listener on `METRICS_PORT` when it is set. */
  start(): Promise<void>;
  /** Stops them (after the runtime has stopped: readiness stays false until then). */
  close(): Promise<void>;
}

/** What this role samples, per context: its own concerns, as its database role allows. */
function sourcesOf(runtime: Runtime, role: Role, workerContexts: readonly ContextName[]) {
  const parts = ROLES[role];
  const sources: ContextSources[] = [];
  for (const ctx of CONTEXTS) {
    const works = parts.worker && workerContexts.includes(ctx);
    // A worker process samples its own contexts only.
    if (parts.worker && !parts.gateway && !works) continue;
    // The gateway's database role may read the outbox's state, never the inbox.
    const database = new PgBacklog(runtime.pools[ctx], works);
    // A relay has no stream backlog of its own to show (its work is the outbox).
    const onlyRelay = parts.relay && !parts.gateway && !parts.worker;
    const streams = onlyRelay
      ? undefined
      : new JetStreamBacklog(runtime.jsm, runtime.subjects, ctx);
    sources.push({ context: ctx, database, streams });
  }
  return sources;
}

/** Other processes' health, from `STATUS_HEALTH_URLS` (a second at most each). */
async function peerHealth(urls: Config["observability"]["healthUrls"]): Promise<ProcessHealth[]> {
  return Promise.all(
    urls.map(async ({ name, url }) => {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(1_000) });
        return { name, ready: r.ok, detail: `${url}: HTTP ${r.status}` };
      } catch (err) {
        return { name, ready: false, detail: `${url}: ${(err as Error).message}` };
      }
    }),
  );
}

/** Wires the observability of one process (see README, "Operations"). */
export function observe(
  runtime: Runtime,
  opts: { role: Role; workerContexts: readonly ContextName[]; config: Config; log: Log },
): Observability {
  const { role, workerContexts, config, log } = opts;
  watchReconnects(runtime.nc, () => metrics.natsReconnected());
  const series = new StatusSeries();
  const sampleMs = config.observability.sampleMs;
  const sampler = new GaugeSampler(
    sourcesOf(runtime, role, workerContexts),
    sampleMs,
    log.child({ component: "metrics" }),
    // Only a gateway serves the status page that reads the series.
    ROLES[role].gateway ? () => series.record() : undefined,
  );
  let listener: FastifyInstance | null = null;
  const parts = ROLES[role];
  const readiness = readinessChecks(runtime, parts, parts.worker ? workerContexts : CONTEXTS);
  return {
    status: new StatusReport({
      role,
      intervalMs: sampleMs,
      readiness,
      stopping: () => runtime.stopping,
      series: () => series.list(),
      consumers: () => sampler.consumerStates(),
      peers: () => peerHealth(config.observability.healthUrls),
    }),
    async start() {
      if (metrics.enabled) sampler.start();
      const port = config.observability.metricsPort;
      if (port === undefined) return;
      listener = buildRoleApp({
        readiness: await readiness,
        stopping: () => runtime.stopping,
        log: log.child({ component: "metrics-listener" }),
      });
      await listener.listen({ port, host: config.host });
      log.info({ port, role }, "metrics and health listening");
    },
    async close() {
      await sampler.stop();
      await listener?.close();
      await tracer().shutdown();
    },
  };
}
