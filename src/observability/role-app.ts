import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Log } from "../log.js";
import type { ReadinessCheck } from "../ports.js";
import { healthRoutes } from "./routes/health.js";
import { metricsRoutes } from "./routes/metrics.js";
import { metrics } from "./metrics.js";

/**
 * The small HTTP listener of a relay or worker process (`METRICS_PORT`): `/metrics`,
 * `/health/live`, `/health/ready` (its databases, NATS, streams and consumer, migrations;
 * false from the first moment of a shutdown until the process exits). Nothing else: no API.
 */
export function buildRoleApp(opts: {
  readiness: ReadinessCheck[];
  stopping: () => boolean;
  log: Log;
}): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    disableRequestLogging: true,
  });
  app.register(healthRoutes, { readiness: opts.readiness, stopping: opts.stopping });
  if (metrics.enabled) app.register(metricsRoutes);
  return app;
}
