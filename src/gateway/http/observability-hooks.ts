import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatewayError, ServiceUnavailableError } from "../../errors.js";
import { metrics } from "../../observability/metrics.js";
import { tracer, validTraceparent, type SpanScope } from "../../observability/tracing.js";

/** The route a request matched, as a label (the template, never the raw URL). */
const routeOf = (req: FastifyRequest) => req.routeOptions.url ?? "unmatched";

/**
 * Request metrics and the HTTP server span, as hooks on the root app so every route has them.
 * Both measure until the response closes (a stream's whole life), through the raw response:
 * streamed replies are hijacked and skip fastify's own `onResponse`. Each part is only added
 * when it is on, so a gateway without metrics or tracing pays nothing per request.
 */
export function instrumentHttp(app: FastifyInstance): void {
  if (metrics.enabled) {
    app.addHook("onRequest", (req, reply, done) => {
      const started = performance.now();
      // `on`, not `once`: 'close' comes once, and a wrapper would live as long as the stream.
      reply.raw.on("close", () =>
        metrics.httpRequest(
          req.method,
          routeOf(req),
          reply.raw.statusCode,
          performance.now() - started,
        ),
      );
      done();
    });
  }
  const t = tracer();
  if (!t.enabled) return;
  const spans = new WeakMap<FastifyRequest, SpanScope>();
  app.addHook("onRequest", (req, reply, done) => {
    const span = t.start(`${req.method} ${routeOf(req)}`, {
      parent: validTraceparent(req.headers.traceparent),
      kind: "server",
      attributes: {
        "http.request.method": req.method,
        "http.route": routeOf(req),
        "sea.correlation_id": req.id,
      },
    });
    spans.set(req, span);
    reply.raw.on("close", () => {
      const status = reply.raw.statusCode;
      span.setAttributes({ "http.response.status_code": status });
      span.end(status >= 500 ? new Error(`HTTP ${status}`) : undefined);
    });
    span.run(done);
  });
  // Body parsing runs outside the request's async context: enter the span again for the
  // handler, so what it starts (the outbox insert) becomes the span's child.
  app.addHook("preHandler", (req, _reply, done) => {
    const span = spans.get(req);
    if (span) span.run(done);
    else done();
  });
}

/** Counts a 429 or 503 answer by its reason (the error code, or a 503's own reason). */
export function countRejection(err: unknown, status: number): void {
  if (status !== 429 && status !== 503) return;
  const reason =
    err instanceof ServiceUnavailableError
      ? err.reason
      : err instanceof GatewayError
        ? (err.code ?? "unknown")
        : "unknown";
  metrics.httpRejected(status, reason);
}
