import { CONTEXTS, type ContextName } from "../../contracts/index.js";
import type { ReadinessCheck } from "../ports.js";
import { checkReadiness } from "./readiness.js";
import type { ConsumerState } from "./backlog.js";
import { metrics, type GaugeReading } from "./metrics.js";
import type { FailureRecord } from "./recent-failures.js";
import type { SeriesPoint } from "./status-series.js";

/** One process (or group of processes) as the status page shows it. */
export interface ProcessHealth {
  name: string;
  /** null: not known from here. */
  ready: boolean | null;
  detail: string;
}

/** What `GET /status.json` answers: every number is read from this process's metrics. */
export interface StatusSnapshot {
  generatedAt: string;
  role: string;
  metricsEnabled: boolean;
  /** Per context; null where this process does not sample that value. */
  contexts: {
    context: ContextName;
    outboxUnpublished: number | null;
    inboxUnprocessed: number | null;
    consumerPending: number | null;
    dlqDepth: number | null;
  }[];
  activeStreams: { sse: number; websocket: number; mcp: number };
  series: { intervalMs: number; points: SeriesPoint[] };
  failures: FailureRecord[];
  processes: ProcessHealth[];
}

/** Produces the status page's snapshot. */
export interface StatusSource {
  snapshot(): Promise<StatusSnapshot>;
}

/** Where the status report reads from. */
export interface StatusReportDeps {
  role: string;
  intervalMs: number;
  /** This process's readiness checks (a relay's or worker's are known once it has connected). */
  readiness: ReadinessCheck[] | Promise<ReadinessCheck[]>;
  stopping: () => boolean;
  series: () => SeriesPoint[];
  /** The workers' consumers as last sampled from JetStream. */
  consumers: () => Map<ContextName, ConsumerState | null>;
  /** Other processes' health (STATUS_HEALTH_URLS), checked when the page asks. */
  peers: () => Promise<ProcessHealth[]>;
}

const valueFor = (readings: GaugeReading[], ctx: string): number | null => {
  const mine = readings.filter((r) => r.labels.context === ctx);
  return mine.length === 0 ? null : mine.reduce((a, r) => a + r.value, 0);
};

/**
 * The status page's data: backlog and dead letters per context and active streams (the gauges
 * `/metrics` serves), throughput and time-to-first-chunk series, recent failures, and each
 * process's health: this one's readiness, the workers as JetStream sees their consumer (pulls
 * waiting = workers asking for work), and any health URLs configured.
 */
export class StatusReport implements StatusSource {
  constructor(private readonly deps: StatusReportDeps) {}

  async snapshot(): Promise<StatusSnapshot> {
    const g = await metrics.gauges();
    const active = (surface: string) =>
      g.active_streams.find((r) => r.labels.surface === surface)?.value ?? 0;
    const [self, peers] = await Promise.all([this.self(), this.deps.peers()]);
    return {
      generatedAt: new Date().toISOString(),
      role: this.deps.role,
      metricsEnabled: metrics.enabled,
      contexts: CONTEXTS.map((context) => ({
        context,
        outboxUnpublished: valueFor(g.outbox_unpublished_count, context),
        inboxUnprocessed: valueFor(g.inbox_unprocessed_count, context),
        consumerPending: valueFor(g.jetstream_consumer_num_pending, context),
        dlqDepth: valueFor(g.dlq_depth, context),
      })),
      activeStreams: { sse: active("sse"), websocket: active("websocket"), mcp: active("mcp") },
      series: { intervalMs: this.deps.intervalMs, points: this.deps.series() },
      failures: metrics.failures.list(),
      processes: [self, ...this.workers(), ...peers],
    };
  }

  private async self(): Promise<ProcessHealth> {
    const name = `this process (${this.deps.role})`;
    if (this.deps.stopping()) return { name, ready: false, detail: "shutting down" };
    // Bounded like /health/ready: a NATS flush would wait for a reconnect otherwise.
    const { checks } = await checkReadiness(await this.deps.readiness);
    const problems = checks.flatMap((c) => (c.ok ? [] : [`${c.name}: ${c.error}`]));
    return {
      name,
      ready: problems.length === 0,
      detail: problems.length === 0 ? "ready" : problems.join("; "),
    };
  }

  private workers(): ProcessHealth[] {
    return [...this.deps.consumers()].map(([ctx, c]) => ({
      name: `${ctx} workers (JetStream consumer ${c?.name ?? "?"})`,
      ready: c === null ? false : c.waiting > 0 || c.ackPending > 0,
      detail:
        c === null
          ? "consumer missing"
          : `${c.waiting} pull requests waiting, ${c.ackPending} in progress, ${c.pending} pending`,
    }));
  }
}
