import { z } from "zod";
import { DEFAULT_DLQ_SUBJECT, SUBJECT_TOKEN } from "../../contracts/index.js";
import { parseNatsServers } from "../nats-servers.js";
import { durationMs, int, logLevel, optionalText, optionalUrl, port } from "./builders.js";
import { setting } from "./settings.js";

const postgresUrl = () => optionalUrl(["postgres://", "postgresql://"]);

/**
 * `STATUS_HEALTH_URLS`: `name=url` pairs, comma-separated (e.g.
 * `relay=http://relay:9091/health/ready,worker-sea=http://worker-sea:9091/health/ready`).
 */
function healthUrls(text: string | undefined, fail: (problem: string) => void) {
  const urls: { readonly name: string; readonly url: string }[] = [];
  for (const part of (text ?? "").split(",").map((p) => p.trim())) {
    if (!part) continue;
    const at = part.indexOf("=");
    const name = part.slice(0, at).trim();
    const url = part.slice(at + 1).trim();
    if (at <= 0 || !/^https?:\/\/\S+$/.test(url)) {
      fail(`'${part}' is not name=http(s)://…`);
      return Object.freeze([]);
    }
    urls.push(Object.freeze({ name, url }));
  }
  return Object.freeze(urls);
}

/** Settings of every role: where the services are, logs, metrics, shutdown. */
export const commonSettings = {
  // One seed or a comma-separated list (see nats-servers.ts).
  natsUrl: setting(
    "NATS_URL",
    z
      .string()
      .trim()
      .optional()
      .transform((v) => (v === "" ? undefined : v))
      .superRefine((v, ctx) => {
        const parsed = v === undefined ? undefined : parseNatsServers(v);
        for (const message of parsed?.ok === false ? parsed.problems : []) {
          ctx.addIssue({ code: "custom", message });
        }
      }),
  ),
  databaseUrls: {
    sea: setting("SEA_DATABASE_URL", postgresUrl()),
    vibespro: setting("VIBESPRO_DATABASE_URL", postgresUrl()),
  },
  natsCredsFile: setting("NATS_CREDS_FILE", optionalText()),
  /** Copies of each stream the context provisions (3 on a JetStream cluster of 3 or more). */
  // A JetStream cluster keeps at most 5 copies of a stream.
  jetstreamReplicas: setting("JETSTREAM_REPLICAS", int(1, 1).pipe(z.number().max(5))),
  logLevel: setting("LOG_LEVEL", logLevel()),
  /** Connections per context database (a fixed pool, independent of handler concurrency). */
  postgres: {
    poolSize: setting("PG_POOL_SIZE", int(8, 1)),
    poolWaitMs: setting("PG_POOL_WAIT_MS", durationMs(30_000, 100)),
  },
  dlqSubject: setting(
    "DLQ_SUBJECT",
    z
      .string()
      .default(DEFAULT_DLQ_SUBJECT)
      .refine(
        (v) =>
          v
            .replace("{context}", "ctx")
            .split(".")
            .every((t) => SUBJECT_TOKEN.test(t)),
        { message: "must be dot-separated subject tokens, with {context} for the context name" },
      ),
  ),
  namespace: setting("NATS_NAMESPACE", z.string().regex(SUBJECT_TOKEN).optional(), (v) => v ?? ""),
  /** `DATA_DIR`; undefined means `.data` in the project folder (see bin/data-dir.ts). */
  dataDir: setting("DATA_DIR", optionalText()),
  capabilitiesFile: setting("CAPABILITIES_FILE", optionalText()),
  /** How long a shutdown lets open streams and handlers finish before ending them. */
  shutdownGraceMs: setting("SHUTDOWN_GRACE_MS", durationMs(10_000)),
  /** Ports of the embedded services (used when no external NATS or Postgres is configured). */
  embedded: {
    natsPort: setting("EMBEDDED_NATS_PORT", port(14222)),
    postgresPort: setting("EMBEDDED_POSTGRES_PORT", port(54329)),
  },
  /** Prometheus metrics, health listeners of relays and workers, the status page. */
  observability: {
    /** False: nothing is recorded and `/metrics` is not served. */
    metricsEnabled: setting(
      "METRICS_ENABLED",
      z
        .enum(["true", "false"], { error: "must be true or false" })
        .default("true")
        .transform((v) => v === "true"),
    ),
    /** Where a process opens its own `/metrics` and `/health/*` listener (relays, workers). */
    metricsPort: setting("METRICS_PORT", z.coerce.number().int().min(1).max(65535).optional()),
    /** How often gauges read from Postgres and JetStream are sampled. */
    sampleMs: setting("METRICS_SAMPLE_MS", durationMs(5_000, 100)),
    /** Other processes' readiness URLs the status page shows, by name. */
    healthUrls: setting("STATUS_HEALTH_URLS", z.string().optional(), healthUrls),
    /** OTLP/HTTP base URL; traces are exported only when it is set. */
    otlpEndpoint: setting("OTEL_EXPORTER_OTLP_ENDPOINT", optionalUrl(["http://", "https://"])),
  },
  /**
   * Passwords `migrate` gives the least-privilege roles it creates (`sea_app`, `vibespro_app`,
   * `sea_gateway`); undefined leaves a role's password as it is.
   */
  rolePasswords: {
    sea_app: setting("SEA_APP_PASSWORD", optionalText()),
    vibespro_app: setting("VIBESPRO_APP_PASSWORD", optionalText()),
    sea_gateway: setting("SEA_GATEWAY_PASSWORD", optionalText()),
  },
} as const;
