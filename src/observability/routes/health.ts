import type { FastifyInstance } from "fastify";
import { checkReadiness } from "../readiness.js";
import type { ReadinessCheck } from "../../ports.js";

/** What the health routes need. */
export interface HealthOptions {
  readiness: ReadinessCheck[];
  /** True while the process is shutting down: readiness turns false first. */
  stopping?: () => boolean;
}

/** `GET /health/live` (the process answers) and `GET /health/ready` (its dependencies do). */
export async function healthRoutes(app: FastifyInstance, opts: HealthOptions): Promise<void> {
  app.get("/health/live", async () => ({ status: "ok" }));
  app.get("/health/ready", async (_req, reply) => {
    if (opts.stopping?.()) {
      return reply.status(503).send({ status: "stopping", checks: [] });
    }
    const { ready, checks } = await checkReadiness(opts.readiness);
    return reply.status(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", checks });
  });
}
