import type { FastifyInstance } from "fastify";
import { metrics } from "../metrics.js";

/**
 * `GET /metrics`: the Prometheus exposition of this process. Unauthenticated like the health
 * routes (Prometheus scrapes it); it names no tenant or key. Keep the port off the internet, or
 * put it behind the reverse proxy's own rule.
 */
export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get("/metrics", async (_req, reply) => {
    const { contentType, body } = await metrics.scrape();
    return reply.type(contentType).send(body);
  });
}
