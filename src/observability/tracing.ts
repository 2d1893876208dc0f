/**
 * Tracing, as the gateway, relay and worker see it: a port with one OpenTelemetry adapter
 * (adapters/telemetry/otel-tracing.ts), installed at boot only when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Until then the no-op tracer below is in place: no SDK is
 * loaded, and a span costs one function call.
 *
 * What crosses a process travels as a W3C `traceparent` string (the outbox row's `trace_id`,
 * the `traceparent` NATS header, the handler call's header). With tracing off, the traceparent a
 * client sent is passed along unchanged, so a tracing system around the gateway still sees one
 * trace; with tracing on, each hop's span is the parent of the next.
 */

/** The role of a span in a message flow (OpenTelemetry's span kinds). */
export type SpanKind = "server" | "client" | "producer" | "consumer" | "internal";

export type SpanAttributes = Record<string, string | number | boolean | undefined>;

/** A started span. */
export interface SpanScope {
  /** This span's W3C traceparent: what goes on the messages and calls it makes. */
  readonly traceparent: string;
  /** Runs `fn` with this span active: spans started inside are its children. */
  run<T>(fn: () => T): T;
  setAttributes(attributes: SpanAttributes): void;
  /** Ends the span; an `error` marks it failed. */
  end(error?: unknown): void;
}

/** Starts spans. */
export interface Tracer {
  readonly enabled: boolean;
  /**
   * Starts a span: the child of `parent` (a traceparent from a message or a request) when given,
   * else of the active span, else a new trace.
   */
  start(
    name: string,
    opts?: { parent?: string | undefined; kind?: SpanKind; attributes?: SpanAttributes },
  ): SpanScope;
  /** The active span's traceparent, if any. */
  active(): string | undefined;
  /** Exports what is left (at shutdown). */
  shutdown(): Promise<void>;
}

const NOOP_TRACER: Tracer = {
  enabled: false,
  start: () => {
    throw new Error("the no-op tracer starts no spans");
  },
  active: () => undefined,
  shutdown: async () => undefined,
};

let current: Tracer = NOOP_TRACER;

/** The process's tracer. */
export function tracer(): Tracer {
  return current;
}

/** Installs the tracer (at boot, when tracing is configured). */
export function installTracer(t: Tracer): void {
  current = t;
}

/**
 * Runs `fn` in a span named `name`. `fn` gets the traceparent to put on what it sends: the
 * span's, or (tracing off) `opts.parent` unchanged.
 */
export async function traced<T>(
  name: string,
  opts: { parent?: string | undefined; kind?: SpanKind; attributes?: SpanAttributes },
  fn: (traceparent: string | undefined) => Promise<T>,
): Promise<T> {
  const t = current;
  if (!t.enabled) return fn(opts.parent);
  const span = t.start(name, opts);
  try {
    const result = await span.run(() => fn(span.traceparent));
    span.end();
    return result;
  } catch (err) {
    span.end(err);
    throw err;
  }
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A valid W3C traceparent (version 00, non-zero ids), or undefined. */
export function validTraceparent(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const v = value.trim().toLowerCase();
  const m = TRACEPARENT.exec(v);
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return v;
}

/** The trace id of a valid traceparent. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent ? TRACEPARENT.exec(traceparent)?.[1] : undefined;
}
