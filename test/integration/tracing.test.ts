import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureTelemetry } from "../../bin/observability.js";
import { tracer } from "../../src/observability/tracing.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld, eventually } from "../helpers/env.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT set (here: a plain HTTP server receiving OTLP/HTTP JSON),
 * one chat request is one trace: the HTTP span, the outbox insert, the publish, the worker's
 * consume (its parent read from the NATS header), the handler and the result, all connected.
 */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

const world = createTestWorld("tracing");
const spans: OtlpSpan[] = [];
let collector: Server;
let sys: TestSystem;

beforeAll(async () => {
  collector = createServer(async (req, res) => {
    let raw = "";
    for await (const d of req) raw += d;
    if (req.url === "/v1/traces") {
      const body = JSON.parse(raw) as {
        resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const r of body.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
    }
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  // What the CLI does at boot: the SDK is loaded because the endpoint is set.
  await configureTelemetry(world.config({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }), "up");
  sys = await startTestSystem(world, testCatalog());
  await sys.startWorkers(new HandlerRegistry().register(echoHandler()), ["sea"]);
});

afterAll(async () => {
  await sys?.stop();
  await tracer().shutdown();
  await new Promise((r) => collector?.close(r));
  await world.cleanup();
});

/** The spans of one trace, once its last hop (the terminal event's publish) was exported. */
const traceOf = (traceId: string) =>
  eventually(
    () => {
      const mine = spans.filter((s) => s.traceId === traceId);
      return mine.some((s) => s.name === "publish chat_completed") ? mine : null;
    },
    15_000,
    "the trace's spans",
  );

const chat = (headers: Record<string, string> = {}) =>
  fetch(`${sys.baseURL}/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${sys.apiKey}`,
      "content-type": "application/json",
      ...headers,
    },
    body: JSON.stringify({
      model: "sea",
      stream: true,
      messages: [{ role: "user", content: "trace me" }],
    }),
  });

describe("tracing with an OTLP endpoint", () => {
  it("is on, with the OpenTelemetry SDK loaded", () => {
    expect(tracer().enabled).toBe(true);
  });

  it("makes one connected trace of one request, linked through the NATS headers", async () => {
    const r = await chat();
    expect(await r.text()).toContain("[DONE]");
    const root = await eventually(() =>
      spans.find((s) => s.name === "POST /v1/chat/completions" && !s.parentSpanId),
    );
    const trace = await traceOf(root.traceId);
    const names = trace.map((s) => s.name);
    for (const hop of [
      "POST /v1/chat/completions",
      "outbox insert",
      "publish chat_completion",
      "consume chat_completion",
      "handler echo",
      "result completed",
      "publish chat_completed",
    ]) {
      expect(names, hop).toContain(hop);
    }
    // Connected: one root, every other span's parent in the same trace.
    const ids = new Set(trace.map((s) => s.spanId));
    expect(trace.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId))).toEqual([root]);
    const byName = (n: string) => trace.find((s) => s.name === n)!;
    expect(byName("consume chat_completion").parentSpanId).toBe(
      byName("publish chat_completion").spanId,
    );
    expect(byName("handler echo").parentSpanId).toBe(byName("consume chat_completion").spanId);
    expect(byName("outbox insert").parentSpanId).toBe(root.spanId);
  });

  it("continues a client's trace, whose id becomes the correlation id", async () => {
    const traceId = "5bf92f3577b34da6a3ce929d0e0e4736";
    const r = await chat({ traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(r.headers.get("x-request-id")).toBe(traceId);
    await r.text();
    const trace = await traceOf(traceId);
    const root = trace.find((s) => s.name === "POST /v1/chat/completions")!;
    expect(root.parentSpanId).toBe("00f067aa0ba902b7");
  });
});
