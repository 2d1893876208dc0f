import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { freePort } from "../helpers/outbox.js";

/**
 * deploy/: the Prometheus alert rules (checked and unit-tested by promtool), the Prometheus
 * configuration, and the Grafana dashboard (its structure, and every query parsed by promtool)
 * as compose.yaml wires them.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const file = (p: string) => path.join(root, p);
const read = (p: string) => readFileSync(file(p), "utf8");

/** The metrics the processes expose (issue 9), with prom-client's defaults and `up`. */
const KNOWN_METRICS = new Set([
  "outbox_unpublished_count",
  "inbox_unprocessed_count",
  "jetstream_consumer_num_pending",
  "handler_failures_total",
  "message_processing_latency_ms",
  "http_request_duration_ms",
  "stream_time_to_first_chunk_ms",
  "active_streams",
  "relay_publish_latency_ms",
  "relay_batch_size",
  "outbox_dispatch_fallbacks_total",
  "dlq_depth",
  "command_redeliveries_total",
  "stream_cancellations_total",
  "http_rejections_total",
  "nats_reconnects_total",
  "process_resident_memory_bytes",
  "process_cpu_seconds_total",
  "nodejs_eventloop_lag_p99_seconds",
  "up",
]);

const PROMQL_WORDS = new Set(["and", "or", "unless", "bool", "offset", "inf", "nan"]);

/** The metric names a PromQL expression reads (histogram series by their base name). */
function metricsOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names = [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((n) => !PROMQL_WORDS.has(n.toLowerCase()));
  // A histogram's series by its base name; a gauge may end in `_count` itself.
  return names.map((n) => (KNOWN_METRICS.has(n) ? n : n.replace(/_(bucket|sum|count)$/, "")));
}

/** Runs promtool; a missing promtool fails with what to install (CI installs it). */
function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync("promtool", args, { encoding: "utf8", cwd: root });
  if (r.error) {
    throw new Error(
      `promtool not found (${r.error.message}): apt-get install prometheus (.ci/run does)`,
    );
  }
  return { status: r.status, output: r.stdout + r.stderr };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
}

const alerts = parse(read("deploy/prometheus/alerts.yml")) as {
  groups: { rules: { alert: string; expr: string }[] }[];
};
const dashboard = JSON.parse(read("deploy/grafana/dashboards/sea-gateway.json")) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string }[] };
};
const queryPanels = dashboard.panels.filter((p) => p.type !== "row");

describe("deploy/prometheus", () => {
  it("alerts.yml passes promtool check rules", () => {
    const r = promtool("check", "rules", "deploy/prometheus/alerts.yml");
    expect(r.status, r.output).toBe(0);
  });

  it("each alert fires (and stays quiet) as alerts.test.yml says (promtool test rules)", () => {
    const r = promtool("test", "rules", "deploy/prometheus/alerts.test.yml");
    expect(r.status, r.output).toBe(0);
    const tested = new Set(
      [...read("deploy/prometheus/alerts.test.yml").matchAll(/alertname: (\w+)/g)].map((m) => m[1]),
    );
    const defined = alerts.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(defined.filter((a) => !tested.has(a))).toEqual([]);
  });

  it("covers backlog, dead letters, consumer pending and time to first chunk", () => {
    const exprs = alerts.groups.flatMap((g) => g.rules.map((r) => r.expr)).join("\n");
    for (const m of [
      "outbox_unpublished_count",
      "dlq_depth",
      "jetstream_consumer_num_pending",
      "stream_time_to_first_chunk_ms_bucket",
    ]) {
      expect(exprs).toContain(m);
    }
  });

  it("prometheus.yml passes promtool check config, and scrapes every role", () => {
    const r = promtool("check", "config", "deploy/prometheus/prometheus.yml");
    expect(r.status, r.output).toBe(0);
    const config = parse(read("deploy/prometheus/prometheus.yml")) as {
      scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    const targets = config.scrape_configs.flatMap((j) =>
      j.dns_sd_configs.flatMap((d) => d.names.map((n) => `${n}:${d.port}`)),
    );
    expect(targets.sort()).toEqual([
      "gateway:8080",
      "relay:9091",
      "worker-sea:9091",
      "worker-vibespro:9091",
    ]);
  });
});

describe("deploy/grafana", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "sea-deploy-"));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it("the dashboard's panels are well formed, on the provisioned datasource", () => {
    const provisioned = parse(read("deploy/grafana/provisioning/datasources/prometheus.yml")) as {
      datasources: { uid: string }[];
    };
    const uid = provisioned.datasources[0]!.uid;
    expect(dashboard.uid).toBe("sea-gateway");
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(queryPanels.length).toBeGreaterThan(10);
    for (const p of queryPanels) {
      expect(p.datasource?.uid, p.title).toBe(uid);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (const t of p.targets!) expect(t.datasource?.uid ?? uid, p.title).toBe(uid);
    }
  });

  it("every dashboard query is valid PromQL (parsed by promtool) and reads known metrics", async () => {
    // Grafana's variables, as Grafana substitutes them, so promtool can parse the queries.
    const substitute = (expr: string) =>
      expr.replaceAll("$__rate_interval", "1m").replaceAll("$context", ".*");
    const rules = queryPanels.flatMap((p) =>
      p.targets!.map((t) => ({ record: `panel_${p.id}_${t.refId}`, expr: substitute(t.expr) })),
    );
    const rulesFile = path.join(scratch, "dashboard-queries.yml");
    await writeFile(rulesFile, stringify({ groups: [{ name: "dashboard", rules }] }));
    const r = promtool("check", "rules", rulesFile);
    expect(r.status, r.output).toBe(0);

    const used = new Set([
      ...rules.flatMap((rule) => metricsOf(rule.expr)),
      ...alerts.groups.flatMap((g) => g.rules.flatMap((rule) => metricsOf(rule.expr))),
    ]);
    expect([...used].filter((m) => !KNOWN_METRICS.has(m))).toEqual([]);
    // Every metric of the pipeline is on the dashboard.
    const onDashboard = new Set(rules.flatMap((rule) => metricsOf(rule.expr)));
    expect([...KNOWN_METRICS].filter((m) => m !== "up" && !onDashboard.has(m))).toEqual([]);
  });
});

describe("compose.yaml's observability profile", () => {
  it("runs Prometheus and Grafana only with --profile observability, on the files above", () => {
    const compose = parse(read("compose.yaml")) as {
      services: Record<string, { profiles?: string[]; volumes?: string[] }>;
    };
    for (const name of ["prometheus", "grafana"]) {
      const service = compose.services[name]!;
      expect(service.profiles, name).toEqual(["observability"]);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0]!;
        if (source.startsWith(".")) expect(existsSync(file(source)), volume).toBe(true);
      }
    }
  });
});

describe("compose.yaml and the Dockerfile", () => {
  interface Service {
    image?: string;
    build?: unknown;
    command?: string[];
    environment?: Record<string, string>;
    ports?: string[];
    healthcheck?: { test: string[] };
  }
  // Compose reads YAML merge keys (`<<: *anchor`).
  const compose = parse(read("compose.yaml"), { merge: true }) as {
    services: Record<string, Service>;
  };
  const ours = ["migrate", "gateway", "relay", "worker-sea", "worker-vibespro"];
  const svc = (name: string) => compose.services[name]!;
  const user = (url: string | undefined) => new URL(url!.replace(/\$\{[^}]*\}/g, "x")).username;

  it("builds the image once and runs it for every role", () => {
    const built = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
    expect(built.map(([name]) => name)).toEqual(["migrate"]);
    expect(new Set(ours.map((n) => svc(n).image)).size).toBe(1);
  });

  it("connects each role with its least-privilege database role; only migrate as the owner", () => {
    const users = (n: string) => [
      user(svc(n).environment!.SEA_DATABASE_URL),
      user(svc(n).environment!.VIBESPRO_DATABASE_URL),
    ];
    expect(users("migrate")).toEqual(["postgres", "postgres"]);
    expect(users("gateway")).toEqual(["sea_gateway", "sea_gateway"]);
    for (const n of ["relay", "worker-sea", "worker-vibespro"]) {
      expect(users(n), n).toEqual(["sea_app", "vibespro_app"]);
      expect(svc(n).environment!.GATEWAY_JWT_SECRET, n).toBeUndefined();
    }
    for (const v of ["SEA_APP_PASSWORD", "VIBESPRO_APP_PASSWORD", "SEA_GATEWAY_PASSWORD"]) {
      expect(svc("migrate").environment![v], v).toBeTruthy();
    }
  });

  it("lets the gateway scale (no single fixed host port) and checks relays and workers on METRICS_PORT", () => {
    for (const port of svc("gateway").ports ?? []) {
      expect(port, "a fixed host port stops --scale").toMatch(
        /^(\$\{[^}]*:-\d+-\d+\}|\d+-\d+):8080$|^8080$/,
      );
    }
    for (const n of ["relay", "worker-sea", "worker-vibespro"]) {
      expect(svc(n).environment!.METRICS_PORT, n).toBe("9091");
      expect(svc(n).healthcheck?.test.join(" "), n).toContain("process.env.METRICS_PORT");
    }
  });

  /** Runs a health check command (`node -e …`) with `env`; resolves with its exit code. */
  async function runCheck(script: string, env: Record<string, string>): Promise<number | null> {
    // Asynchronously: the HTTP server it probes runs in this process.
    const child = spawn(process.execPath, ["-e", script], {
      env: { PATH: process.env.PATH, ...env },
      stdio: "ignore",
    });
    const [code] = (await once(child, "exit")) as [number | null];
    return code;
  }

  it("the image's HEALTHCHECK and compose's probe find /health/ready for every role", async () => {
    const dockerfile = read("Dockerfile").replace(/\\\n/g, " ");
    const imageCheck = /HEALTHCHECK .*CMD node -e "(.*)"/.exec(dockerfile)![1]!;
    const composeCheck = svc("relay").healthcheck!.test.at(-1)!;
    const server = createServer((req, res) => {
      res.writeHead(req.url === "/health/ready" ? 200 : 404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const ready = String((server.address() as { port: number }).port);
    const closed = String(await freePort());
    try {
      // The gateway: PORT. Relays and workers: METRICS_PORT. HEALTH_PORT overrides both.
      expect(await runCheck(imageCheck, { PORT: ready })).toBe(0);
      expect(await runCheck(imageCheck, { PORT: closed, METRICS_PORT: ready })).toBe(0);
      expect(await runCheck(imageCheck, { METRICS_PORT: closed, HEALTH_PORT: ready })).toBe(0);
      expect(await runCheck(imageCheck, { PORT: closed })).toBe(1);
      expect(await runCheck(composeCheck, { METRICS_PORT: ready })).toBe(0);
      expect(await runCheck(composeCheck, { METRICS_PORT: closed })).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
