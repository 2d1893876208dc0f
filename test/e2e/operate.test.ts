import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect, type NatsConnection } from "nats";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { subjectSpace } from "../../contracts/index.js";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { startNatsServer, type NatsServerProcess } from "../../adapters/embedded/nats-server.js";
import { spawnCli, stopChild, waitReady } from "../helpers/cli.js";
import { createTestWorld, eventually, TEST_SECRET, testLog } from "../helpers/env.js";
import { HoldHandlerService } from "../helpers/hold-handler-service.js";
import { scrape, valueOf, type Sample } from "../helpers/metrics.js";
import { freePort } from "../helpers/outbox.js";

/**
 * Operating one `sea-gateway up` (a real process) on a private nats-server this test stops and
 * restarts: every metric moving under a real workload, correlation ids through logs, handler
 * calls and result events, and the status page in headless Chromium agreeing with /metrics.
 */
const world = createTestWorld("operate");
const subjects = subjectSpace(world.namespace);
const CLIENT_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const CHROMIUM = "/usr/bin/chromium";

let nats: NatsServerProcess;
let natsPort: number;
let natsDir: string;
let handler: HoldHandlerService;
let child: ChildProcess;
let base: string;
let key: string;
const logLines: Record<string, unknown>[] = [];

const startNats = async () => {
  nats = await startNatsServer({ port: natsPort, storeDir: natsDir, log: testLog });
};

beforeAll(async () => {
  natsPort = await freePort();
  natsDir = await mkdtemp(path.join(tmpdir(), "operate-nats-"));
  const port = await freePort();
  await startNats();
  handler = await new HoldHandlerService().start();
  base = `http://127.0.0.1:${port}`;
  child = spawnCli(["up"], {
    ...world.env,
    NATS_URL: `nats://127.0.0.1:${natsPort}`,
    PORT: String(port),
    SEA_HANDLER_URL: handler.url,
    MAX_INFLIGHT: "2",
    // What is operated here is the path through JetStream and the relay (commands held behind
    // the consumer, an outage the relay drains). A command `up` hands to its own worker takes
    // neither: local-handoff.test.ts and up-crash-handoff.test.ts cover that path.
    LOCAL_COMMAND_HANDOFF: "false",
    METRICS_SAMPLE_MS: "200",
    OUTBOX_DISPATCH_GRACE_MS: "300",
    RELAY_POLL_MS: "100",
    SHUTDOWN_GRACE_MS: "1000",
    LOG_LEVEL: "debug",
  });
  let partial = "";
  child.stdout!.on("data", (d: Buffer) => {
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop()!;
    for (const l of lines) if (l.startsWith("{")) logLines.push(JSON.parse(l) as never);
  });
  await waitReady(`${base}/health/ready`, child);
  key = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 3600 });
});

afterAll(async () => {
  handler?.release();
  if (child) expect(await stopChild(child)).toBe(0);
  await handler?.stop();
  await nats?.stop();
  await rm(natsDir, { recursive: true, force: true });
  await world.cleanup().catch(() => undefined);
});

const chat = (body: Record<string, unknown>, headers: Record<string, string> = {}, k = key) =>
  fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${k}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "sea", ...body }),
  });
const msg = (content: string) => [{ role: "user", content }];

/** Waits until /metrics satisfies `check` (sampled gauges move every 200 ms). */
const metricsWhere = (what: string, check: (m: Sample[]) => boolean) =>
  eventually(
    async () => {
      const samples = await scrape(base);
      return check(samples) ? samples : null;
    },
    15_000,
    what,
  );

/** The stored terminal result event of a stream, with its headers (read from JetStream). */
async function terminalEvent(streamId: string) {
  const nc: NatsConnection = await connect({ servers: `127.0.0.1:${natsPort}` });
  try {
    const jsm = await nc.jetstreamManager();
    const m = await jsm.streams.getMessage(subjects.eventStream("sea"), {
      last_by_subj: subjects.result("sea", "acme", streamId),
    });
    return {
      envelope: m.json<Record<string, unknown>>(),
      header: m.header.get("X-Correlation-Id"),
    };
  } finally {
    await nc.close();
  }
}

/** Log lines carrying `correlationId`, by where they come from. */
function linesOf(correlationId: string) {
  const mine = logLines.filter((l) => l.correlation_id === correlationId);
  return {
    gateway: mine.filter((l) => l.component === undefined && typeof l.url === "string"),
    relay: mine.filter((l) => l.component === "relay"),
    worker: mine.filter((l) => l.component === "worker"),
  };
}

describe("operating `sea-gateway up`", () => {
  // Work a failed test left held does not block the next one.
  afterEach(() => handler.release());

  it("measures a stream, and its correlation id and trace context reach the handler and the result events", async () => {
    const r = await chat(
      { stream: true, messages: msg("hello operators") },
      { "x-request-id": "corr-main", traceparent: CLIENT_TRACEPARENT },
    );
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("operators");
    const streamId = r.headers.get("x-stream-id")!;
    const call = handler.calls.find((c) => c.body.correlation_id === "corr-main")!;
    expect(call.headers["x-correlation-id"]).toBe("corr-main");
    // Tracing is off: the client's trace context is passed along unchanged.
    expect(call.headers.traceparent).toBe(CLIENT_TRACEPARENT);
    const stored = await eventually(() => terminalEvent(streamId).catch(() => null));
    expect(stored.envelope).toMatchObject({
      correlation_id: "corr-main",
      event_type: "chat_completed",
    });
    expect(stored.header).toBe("corr-main");
    const lines = await eventually(() => {
      const l = linesOf("corr-main");
      return l.gateway.length > 0 && l.worker.length > 0 ? l : null;
    });
    expect(lines.worker.some((l) => l.msg === "command processed")).toBe(true);

    const m = await metricsWhere(
      "request metrics",
      (s) =>
        valueOf(s, "message_processing_latency_ms_count", { context: "sea", handler: "http" }) >= 1,
    );
    const route = { method: "POST", route: "/v1/chat/completions", status_code: "200" };
    expect(valueOf(m, "http_request_duration_ms_count", route)).toBeGreaterThanOrEqual(1);
    expect(valueOf(m, "stream_time_to_first_chunk_ms_count", { surface: "sse" })).toBe(1);
    expect(valueOf(m, "active_streams", { surface: "sse" })).toBe(0);
    expect(valueOf(m, "process_resident_memory_bytes", { role: "up" })).toBeGreaterThan(0);
  });

  it("counts a 429 by its reason", async () => {
    const limited = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 600, rpm: 1 });
    const body = { model: "vibespro", messages: msg("once") };
    expect((await chat(body, {}, limited)).status).toBe(200);
    expect((await chat(body, {}, limited)).status).toBe(429);
    const m = await scrape(base);
    expect(
      valueOf(m, "http_rejections_total", { status: "429", reason: "rate_limit_exceeded" }),
    ).toBe(1);
  });

  it("dead-letters a poison command and redelivers a transient failure", async () => {
    expect((await chat({ messages: msg("poison") })).status).toBe(502);
    const flaky = await chat({ messages: msg("flaky") });
    expect(
      ((await flaky.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message
        .content,
    ).toBe("recovered");
    const m = await metricsWhere(
      "the dead letter sampled",
      (s) => valueOf(s, "dlq_depth", { context: "sea" }) === 1,
    );
    const failures = (kind: string) =>
      valueOf(m, "handler_failures_total", { context: "sea", handler: "http", kind });
    expect(failures("poison")).toBe(1);
    expect(failures("transient")).toBe(1);
    expect(valueOf(m, "command_redeliveries_total", { context: "sea" })).toBe(1);
    expect(valueOf(m, "dlq_depth", { context: "vibespro" })).toBe(0);
  });

  it("shows held work as backlog, and the status page in Chromium shows what /metrics says", async () => {
    // One stream held open at the handler, ten more commands behind it (MAX_INFLIGHT=2: two
    // are claimed, the consumer's max ack pending of 8 leaves the rest pending in JetStream).
    const streaming = chat({ stream: true, messages: msg("hold the stream") });
    for (let i = 0; i < 10; i++) {
      expect((await chat({ background: true, messages: msg(`hold ${i}`) })).status).toBe(202);
    }
    const m = await metricsWhere(
      "held work sampled",
      (s) =>
        valueOf(s, "inbox_unprocessed_count", { context: "sea" }) === 2 &&
        valueOf(s, "jetstream_consumer_num_pending", { context: "sea" }) >= 2 &&
        valueOf(s, "active_streams", { surface: "sse" }) === 1,
    );
    expect(valueOf(m, "jetstream_consumer_num_pending", { context: "vibespro" })).toBe(0);

    const admin = await mintKey(TEST_SECRET, { tenant: "ops", ttlSecs: 600, admin: true });
    expect((await fetch(`${base}/status`)).status).toBe(401);
    expect(
      (await fetch(`${base}/status.json`, { headers: { authorization: `Bearer ${key}` } })).status,
    ).toBe(403);
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} missing: apt-get install chromium (.ci/run does)`);
    const profile = await mkdtemp(path.join(tmpdir(), "operate-chromium-"));
    let browser: BrowserContext | undefined;
    try {
      // A fresh profile (playwright passes it as --user-data-dir).
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1200, height: 900 },
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
      const page = await browser.newPage();
      await page.goto(`${base}/status?access_token=${admin}`);
      await page.waitForSelector("body[data-loaded=true]", { timeout: 15_000 });
      // The key left the address bar; the page keeps it for the session.
      expect(page.url()).toBe(`${base}/status`);
      const shown = async () =>
        page.$$eval("[data-metric]", (els) =>
          els.map((e) => ({
            metric: e.getAttribute("data-metric")!,
            context: e.getAttribute("data-context"),
            surface: e.getAttribute("data-surface"),
            text: e.textContent!.trim(),
          })),
        );
      // Every number on the page equals the same series on /metrics (the page polls every 2 s).
      await eventually(
        async () => {
          const cells = await shown();
          const now = await scrape(base);
          const differ = cells.filter((c) => {
            const labels: Record<string, string> = c.context
              ? { context: c.context }
              : { surface: c.surface! };
            return c.text !== String(valueOf(now, c.metric, labels));
          });
          // 4 per context and 3 surfaces.
          if (cells.length !== 11 || differ.length > 0) {
            throw new Error(`${cells.length} cells; differing: ${JSON.stringify(differ)}`);
          }
          return true;
        },
        15_000,
        "the page to show /metrics' numbers",
      );
      const cells = await shown();
      const cell = (metric: string, label: string) =>
        cells.find((c) => c.metric === metric && (c.context ?? c.surface) === label)!.text;
      expect(cell("dlq_depth", "sea")).toBe("1");
      expect(cell("inbox_unprocessed_count", "sea")).toBe("2");
      expect(cell("active_streams", "sse")).toBe("1");
      expect(await page.textContent("#failures")).toContain("payload version not supported");
      expect(await page.textContent("#processes")).toContain("this process (up)");
      const shot = process.env.UPDATE_DOCS_SCREENSHOT
        ? path.resolve("docs/status-page.png")
        : path.join(profile, "status-page.png");
      await page.screenshot({ path: shot, fullPage: true });
    } finally {
      await browser?.close();
      await rm(profile, { recursive: true, force: true });
    }

    handler.release();
    expect((await streaming).status).toBe(200);
    await eventually(
      async () => {
        handler.release();
        const s = await scrape(base);
        return (
          valueOf(s, "inbox_unprocessed_count", { context: "sea" }) === 0 &&
          valueOf(s, "jetstream_consumer_num_pending", { context: "sea" }) === 0 &&
          valueOf(s, "active_streams", { surface: "sse" }) === 0
        );
      },
      20_000,
      "the held work to drain",
    );
  });

  it("keeps what it writes while NATS is down in the outbox, and the relay drains it when NATS is back", async () => {
    const started = await chat(
      { background: true, messages: msg("hold during the outage") },
      { "x-request-id": "corr-outage" },
    );
    expect(started.status).toBe(202);
    const streamId = started.headers.get("x-stream-id")!;
    await eventually(() => handler.held === 1, 10_000, "the command to run");
    const before = await scrape(base);

    await nats.stop();
    // The client gives up on the stream while the bus is down: the cancel is written to the
    // outbox (immediate dispatch cannot publish it).
    const cancel = await fetch(`${base}/v1/chat/completions/${streamId}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
    });
    expect(cancel.status).toBe(200);
    await metricsWhere(
      "a backlog",
      (s) => valueOf(s, "outbox_unpublished_count", { context: "sea" }) >= 1,
    );
    // The gateway's own publish of the cancel is buffered by the NATS client while it reconnects
    // and could still succeed if the bus came back at once; wait until the relay has taken the
    // row over (its first attempt fails while the bus is down), so the relay is what drains it.
    await eventually(
      () => linesOf("corr-outage").relay.some((l) => l.msg === "outbox publish failed; will retry"),
      10_000,
      "the relay's first attempt at the cancel",
    );

    await startNats();
    const m = await metricsWhere(
      "the backlog drained",
      (s) =>
        valueOf(s, "outbox_unpublished_count", { context: "sea" }) === 0 &&
        valueOf(s, "outbox_dispatch_fallbacks_total", { context: "sea" }) >= 1,
    );
    const grew = (name: string, labels: Record<string, string>) =>
      valueOf(m, name, labels) - valueOf(before, name, labels);
    expect(grew("relay_batch_size_count", { context: "sea" })).toBeGreaterThanOrEqual(1);
    expect(grew("relay_publish_latency_ms_count", { context: "sea" })).toBeGreaterThanOrEqual(1);
    expect(grew("nats_reconnects_total", { role: "up" })).toBeGreaterThanOrEqual(1);
    expect(grew("stream_cancellations_total", { reason: "client_request" })).toBe(1);

    // The cancel reaches the worker, which stops the held call; the client's id is on every
    // hop: the gateway's, the relay's and the worker's log lines, and the result event.
    const status = await eventually(
      async () => {
        const r = await fetch(`${base}/v1/chat/completions/${streamId}`, {
          headers: { authorization: `Bearer ${key}` },
        });
        const s = (await r.json()) as { status: string };
        // Until it has ended, whatever it ended as: then it must be cancelled.
        return s.status === "queued" || s.status === "in_progress" ? null : s;
      },
      15_000,
      "the stream to end",
    );
    expect(status.status).toBe("cancelled");
    const lines = await eventually(
      () => {
        const l = linesOf("corr-outage");
        return l.gateway.length > 0 && l.relay.length > 0 && l.worker.length > 0 ? l : null;
      },
      10_000,
      "log lines of gateway, relay and worker",
    );
    expect(lines.relay.some((l) => l.msg === "relay published an outbox row")).toBe(true);
    // The status is read from the outbox; the event's copy in JetStream follows its publish.
    const stored = await eventually(() => terminalEvent(streamId).catch(() => null));
    expect(stored.envelope).toMatchObject({
      correlation_id: "corr-outage",
      event_type: "chat_failed",
    });
  });
});
