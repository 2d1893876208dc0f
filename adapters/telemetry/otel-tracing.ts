import {
  context,
  ROOT_CONTEXT,
  SpanKind as OtelKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type {
  SpanAttributes,
  SpanKind,
  SpanScope,
  Tracer,
} from "../../src/observability/tracing.js";

const KINDS: Record<SpanKind, OtelKind> = {
  server: OtelKind.SERVER,
  client: OtelKind.CLIENT,
  producer: OtelKind.PRODUCER,
  consumer: OtelKind.CONSUMER,
  internal: OtelKind.INTERNAL,
};

const propagator = new W3CTraceContextPropagator();
const getter = { get: (c: Record<string, string>, k: string) => c[k], keys: Object.keys };
const setter = { set: (c: Record<string, string>, k: string, v: string) => (c[k] = v) };

/** The context a traceparent names (a remote parent). */
function contextOf(traceparent: string): Context {
  return propagator.extract(ROOT_CONTEXT, { traceparent }, getter);
}

function traceparentOf(ctx: Context): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, setter);
  return carrier.traceparent;
}

function clean(attributes: SpanAttributes | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(attributes ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

class OtelSpan implements SpanScope {
  readonly traceparent: string;
  private readonly ctx: Context;

  constructor(
    private readonly span: Span,
    parent: Context,
  ) {
    this.ctx = trace.setSpan(parent, span);
    this.traceparent = traceparentOf(this.ctx)!;
  }

  run<T>(fn: () => T): T {
    return context.with(this.ctx, fn);
  }

  setAttributes(attributes: SpanAttributes): void {
    this.span.setAttributes(clean(attributes));
  }

  end(error?: unknown): void {
    if (error !== undefined) {
      this.span.recordException(error instanceof Error ? error : String(error));
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
    }
    this.span.end();
  }
}

/**
 * The OpenTelemetry SDK behind the tracing port: spans exported in batches over OTLP/HTTP (JSON)
 * to `<endpoint>/v1/traces`, context kept in AsyncLocalStorage, W3C trace context for what
 * crosses processes. Loaded by bin/ only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 */
export function otelTracer(opts: { endpoint: string; role: string }): Tracer {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = new OTLPTraceExporter({
    url: `${opts.endpoint.replace(/\/+$/, "")}/v1/traces`,
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "sea-gateway", "sea.role": opts.role }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000 })],
  });
  const tracer = provider.getTracer("sea-gateway");
  return {
    enabled: true,
    start(name, o = {}) {
      const parent = o.parent ? contextOf(o.parent) : context.active();
      const kind = KINDS[o.kind ?? "internal"];
      const span = tracer.startSpan(name, { kind, attributes: clean(o.attributes) }, parent);
      return new OtelSpan(span, parent);
    },
    active() {
      return trace.getSpan(context.active()) ? traceparentOf(context.active()) : undefined;
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}
