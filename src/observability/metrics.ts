import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ContextName } from "../../contracts/index.js";
import type { CancelReason } from "../cancel-reason.js";
import { RecentFailures, type FailureRecord } from "./recent-failures.js";

/**
 * Every Prometheus metric of the gateway, relays and workers, named once (STYLE.md "Metrics
 * named once"; deploy/ alerts and the dashboard read these names). Latencies are in
 * milliseconds, counters end in `_total`.
 *
 * prom-client is used here as a library, not behind a port: it is an in-memory data structure
 * with no I/O (the scrape is served by our own routes), like pino for logs. The rest of the code
 * never sees a metric object or a metric name: it calls the operations of {@link Metrics}
 * ("a handler failed", "a stream opened"), which do nothing when metrics are disabled.
 */

/** A surface a client reads a stream through. */
export type Surface = "sse" | "websocket" | "mcp" | "responses";

/** Why a handler run did not complete (see the worker's decision table). */
export type FailureKind = "poison" | "transient" | "failed" | "stopping";

/** Millisecond buckets for latencies from a fast publish to a long model answer. */
const LATENCY_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];
const BATCH_ROWS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

function build(registry: Registry) {
  const registers = [registry];
  return {
    outboxUnpublished: new Gauge({
      name: "outbox_unpublished_count",
      help: "Outbox rows not yet published (sampled; capped at 100000)",
      labelNames: ["context"] as const,
      registers,
    }),
    inboxUnprocessed: new Gauge({
      name: "inbox_unprocessed_count",
      help: "Inbox rows received but not yet processed (sampled; capped at 100000)",
      labelNames: ["context"] as const,
      registers,
    }),
    consumerPending: new Gauge({
      name: "jetstream_consumer_num_pending",
      help: "Commands in the stream not yet delivered to the workers' consumer (sampled)",
      labelNames: ["context", "consumer"] as const,
      registers,
    }),
    dlqDepth: new Gauge({
      name: "dlq_depth",
      help: "Messages in the context's dead-letter stream (sampled)",
      labelNames: ["context"] as const,
      registers,
    }),
    handlerFailures: new Counter({
      name: "handler_failures_total",
      help: "Handler runs that did not complete, by kind (poison, transient, failed, stopping)",
      labelNames: ["context", "handler", "kind"] as const,
      registers,
    }),
    processingLatency: new Histogram({
      name: "message_processing_latency_ms",
      help: "From a command's delivery to its settlement (handler included), ms",
      labelNames: ["context", "handler"] as const,
      buckets: LATENCY_MS,
      registers,
    }),
    httpDuration: new Histogram({
      name: "http_request_duration_ms",
      help: "HTTP requests by route and status, until the response ended (whole streams), ms",
      labelNames: ["method", "route", "status_code"] as const,
      buckets: LATENCY_MS,
      registers,
    }),
    firstChunk: new Histogram({
      name: "stream_time_to_first_chunk_ms",
      help: "From a stream's request to its first chunk sent, ms",
      labelNames: ["surface"] as const,
      buckets: LATENCY_MS,
      registers,
    }),
    activeStreams: new Gauge({
      name: "active_streams",
      help: "Streams being sent to clients now",
      labelNames: ["surface"] as const,
      registers,
    }),
    relayPublishLatency: new Histogram({
      name: "relay_publish_latency_ms",
      help: "One outbox row's publish by the relay, until JetStream's ack, ms",
      labelNames: ["context"] as const,
      buckets: LATENCY_MS,
      registers,
    }),
    relayBatchSize: new Histogram({
      name: "relay_batch_size",
      help: "Rows a relay claimed in one batch",
      labelNames: ["context"] as const,
      buckets: BATCH_ROWS,
      registers,
    }),
    dispatchFallbacks: new Counter({
      name: "outbox_dispatch_fallbacks_total",
      help: "Rows the relay published because immediate dispatch had not",
      labelNames: ["context"] as const,
      registers,
    }),
    handoffs: new Counter({
      name: "command_handoffs_total",
      help: "Commands a worker started at commit, handed over by its own process's gateway (up)",
      labelNames: ["context"] as const,
      registers,
    }),
    redeliveries: new Counter({
      name: "command_redeliveries_total",
      help: "Commands delivered again (delivery count > 1)",
      labelNames: ["context"] as const,
      registers,
    }),
    cancellations: new Counter({
      name: "stream_cancellations_total",
      help: "Streams whose work was cancelled, by reason",
      labelNames: ["reason"] as const,
      registers,
    }),
    rejections: new Counter({
      name: "http_rejections_total",
      help: "Requests refused with 429 or 503, by reason",
      labelNames: ["status", "reason"] as const,
      registers,
    }),
    natsReconnects: new Counter({
      name: "nats_reconnects_total",
      help: "Reconnections to NATS",
      labelNames: ["role"] as const,
      registers,
    }),
  };
}

type Instruments = ReturnType<typeof build>;

/** A value read back from the registry (for the status page). */
export interface GaugeReading {
  labels: Partial<Record<string, string | number>>;
  value: number;
}

/**
 * The metric operations. One instance per process ({@link metrics}); `configure` is called once
 * at boot with the process's role.
 */
export class Metrics {
  readonly registry = new Registry();
  /** The last handler and stream failures, for the status page. */
  readonly failures = new RecentFailures(20);
  private readonly m: Instruments = build(this.registry);
  private on = true;
  private role = "unknown";
  private defaultsStarted = false;

  /** False when `METRICS_ENABLED=false`: every operation is a no-op. */
  get enabled(): boolean {
    return this.on;
  }

  /** Sets the process's role (a label of the Node metrics) and whether anything is recorded. */
  configure(opts: { enabled: boolean; role: string }): void {
    this.on = opts.enabled;
    this.role = opts.role;
    if (this.on && !this.defaultsStarted) {
      this.defaultsStarted = true;
      collectDefaultMetrics({ register: this.registry, labels: { role: opts.role } });
    }
  }

  /** The exposition text and its content type (for `GET /metrics`). */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  httpRequest(method: string, route: string, statusCode: number, ms: number): void {
    if (!this.on) return;
    this.m.httpDuration.observe({ method, route, status_code: String(statusCode) }, ms);
  }

  /** A 429 or 503 answer; `reason` is the error code (rate_limit_exceeded, overloaded, …). */
  httpRejected(status: number, reason: string): void {
    if (!this.on) return;
    this.m.rejections.inc({ status: String(status), reason });
  }

  firstChunk(surface: Surface, ms: number): void {
    if (!this.on) return;
    this.m.firstChunk.observe({ surface }, ms);
  }

  /** A stream starts being sent; call the returned function (once, or more) when it ends. */
  streamOpened(surface: Surface): () => void {
    if (!this.on) return noop;
    this.m.activeStreams.inc({ surface });
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.m.activeStreams.dec({ surface });
    };
  }

  /** A cancel command was written for a stream (the label is the reason's key). */
  streamCancelled(reason: CancelReason): void {
    if (!this.on) return;
    this.m.cancellations.inc({ reason });
  }

  /** A handler run did not complete (also kept for the status page). */
  handlerFailed(
    context: ContextName,
    handler: string,
    kind: FailureKind,
    detail: Omit<FailureRecord, "at" | "source" | "context" | "kind">,
  ): void {
    if (!this.on) return;
    this.m.handlerFailures.inc({ context, handler, kind });
    this.failures.add({ source: "worker", context, kind, handler, ...detail });
  }

  /**
   * A stream read by this gateway ended failed (kept for the status page: in a deployment of
   * separate processes, the gateway's view of what its clients were told). Cancellations are
   * not failures.
   */
  streamFailed(
    run: { capability: { context: ContextName }; correlationId: string; streamId: string },
    error: { code: string | null; message: string },
  ): void {
    if (!this.on || error.code === "cancelled") return;
    this.failures.add({
      source: "gateway",
      context: run.capability.context,
      kind: error.code ?? "failed",
      message: error.message,
      correlationId: run.correlationId,
      streamId: run.streamId,
    });
  }

  messageProcessed(context: ContextName, handler: string, ms: number): void {
    if (!this.on) return;
    this.m.processingLatency.observe({ context, handler }, ms);
  }

  commandHandedOff(context: ContextName): void {
    if (!this.on) return;
    this.m.handoffs.inc({ context });
  }

  commandRedelivered(context: ContextName): void {
    if (!this.on) return;
    this.m.redeliveries.inc({ context });
  }

  relayBatch(context: ContextName, rows: number): void {
    if (!this.on) return;
    this.m.relayBatchSize.observe({ context }, rows);
  }

  /** The relay published a row (so immediate dispatch had not) in `ms`. */
  relayPublished(context: ContextName, ms: number): void {
    if (!this.on) return;
    this.m.relayPublishLatency.observe({ context }, ms);
    this.m.dispatchFallbacks.inc({ context });
  }

  natsReconnected(): void {
    if (!this.on) return;
    this.m.natsReconnects.inc({ role: this.role });
  }

  setOutboxUnpublished(context: ContextName, rows: number): void {
    if (this.on) this.m.outboxUnpublished.set({ context }, rows);
  }

  setInboxUnprocessed(context: ContextName, rows: number): void {
    if (this.on) this.m.inboxUnprocessed.set({ context }, rows);
  }

  setConsumerPending(context: ContextName, consumer: string, pending: number): void {
    if (this.on) this.m.consumerPending.set({ context, consumer }, pending);
  }

  setDlqDepth(context: ContextName, messages: number): void {
    if (this.on) this.m.dlqDepth.set({ context }, messages);
  }

  /** The current values of the gauges the status page shows. */
  async gauges(): Promise<Record<GaugeName, GaugeReading[]>> {
    const read = async (g: Gauge<string>) =>
      (await g.get()).values.map((v) => ({ labels: v.labels, value: v.value }));
    return {
      outbox_unpublished_count: await read(this.m.outboxUnpublished),
      inbox_unprocessed_count: await read(this.m.inboxUnprocessed),
      jetstream_consumer_num_pending: await read(this.m.consumerPending),
      dlq_depth: await read(this.m.dlqDepth),
      active_streams: await read(this.m.activeStreams),
    };
  }

  /**
   * Running totals the status page turns into rates: API requests served, and the count and sum
   * of times to first chunk (all surfaces).
   */
  async totals(): Promise<{ requests: number; firstChunks: number; firstChunkMsSum: number }> {
    const http = (await this.m.httpDuration.get()).values;
    const ttft = (await this.m.firstChunk.get()).values;
    const api = (route: unknown) =>
      typeof route === "string" && (route.startsWith("/v1/") || route === "/mcp");
    return {
      requests: sumOf(http.filter((v) => v.metricName?.endsWith("_count") && api(v.labels.route))),
      firstChunks: sumOf(ttft.filter((v) => v.metricName?.endsWith("_count"))),
      firstChunkMsSum: sumOf(ttft.filter((v) => v.metricName?.endsWith("_sum"))),
    };
  }
}

/** The gauges {@link Metrics.gauges} reads. */
export type GaugeName =
  | "outbox_unpublished_count"
  | "inbox_unprocessed_count"
  | "jetstream_consumer_num_pending"
  | "dlq_depth"
  | "active_streams";

const sumOf = (values: { value: number }[]) => values.reduce((a, v) => a + v.value, 0);
const noop = () => undefined;

/** The process's metrics (enabled until `configure` says otherwise). */
export const metrics = new Metrics();
