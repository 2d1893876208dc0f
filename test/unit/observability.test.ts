import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { Metrics } from "../../src/observability/metrics.js";
import { traced, tracer, traceIdOf, validTraceparent } from "../../src/observability/tracing.js";
import { parseExposition, valueOf } from "../helpers/metrics.js";

describe("tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  it("starts no span and passes a client's traceparent along unchanged", async () => {
    expect(tracer().enabled).toBe(false);
    const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    expect(await traced("hop", { parent: tp }, async (t) => t)).toBe(tp);
    expect(await traced("hop", {}, async (t) => t)).toBeUndefined();
  });

  it("accepts only valid W3C traceparents", () => {
    expect(validTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01")).toBe(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    );
    for (const bad of [
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "garbage",
      undefined,
    ]) {
      expect(validTraceparent(bad), String(bad)).toBeUndefined();
    }
    expect(traceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBe(
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
  });
});

describe("metrics", () => {
  it("records nothing when disabled", async () => {
    const m = new Metrics();
    m.configure({ enabled: false, role: "relay" });
    m.handlerFailed("sea", "echo", "poison", { message: "x" });
    m.streamOpened("sse")();
    m.setDlqDepth("sea", 3);
    const samples = parseExposition((await m.scrape()).body);
    expect(valueOf(samples, "handler_failures_total")).toBe(0);
    expect(valueOf(samples, "dlq_depth")).toBe(0);
    expect(m.failures.list()).toEqual([]);
  });

  it("counts an open stream once however often it is closed, and names cancel reasons", async () => {
    const m = new Metrics();
    const close = m.streamOpened("websocket");
    m.streamOpened("websocket");
    close();
    close();
    m.streamCancelled("client_disconnected");
    m.streamCancelled("deadline");
    const samples = parseExposition((await m.scrape()).body);
    expect(valueOf(samples, "active_streams", { surface: "websocket" })).toBe(1);
    expect(valueOf(samples, "stream_cancellations_total", { reason: "client_disconnected" })).toBe(
      1,
    );
    // Reasons are a closed set (src/cancel-reason.ts): each is its own label, none is "other".
    expect(valueOf(samples, "stream_cancellations_total", { reason: "deadline" })).toBe(1);
    expect(valueOf(samples, "stream_cancellations_total", { reason: "other" })).toBe(0);
  });
});

describe("observability settings", () => {
  it("defaults: metrics on, sampled every 5 s, no listener, no tracing", () => {
    expect(loadConfig({}).observability).toEqual({
      metricsEnabled: true,
      metricsPort: undefined,
      sampleMs: 5000,
      healthUrls: [],
      otlpEndpoint: undefined,
    });
  });

  it("reads STATUS_HEALTH_URLS as name=url pairs and refuses anything else", () => {
    const c = loadConfig({
      STATUS_HEALTH_URLS:
        "relay=http://relay:9091/health/ready, worker-sea=http://w:9091/health/ready",
      METRICS_ENABLED: "false",
      METRICS_PORT: "9091",
    });
    expect(c.observability.healthUrls).toEqual([
      { name: "relay", url: "http://relay:9091/health/ready" },
      { name: "worker-sea", url: "http://w:9091/health/ready" },
    ]);
    expect(c.observability.metricsEnabled).toBe(false);
    expect(c.observability.metricsPort).toBe(9091);
    expect(() => loadConfig({ STATUS_HEALTH_URLS: "relay" })).toThrow(/STATUS_HEALTH_URLS/);
    expect(() => loadConfig({ METRICS_ENABLED: "yes" })).toThrow(/METRICS_ENABLED/);
  });
});
