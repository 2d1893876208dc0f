import { z } from "zod";
import { DEFAULT_DLQ_SUBJECT, SUBJECT_TOKEN } from "../contracts/index.js";
import {
  DEFAULT_EVENT_STREAMS,
  parseEventStreamRules,
  type EventStreamRule,
} from "./domain-event-rules.js";
import { parseNatsServers } from "./nats-servers.js";

/**
 * The one module that reads the environment. Everything is validated at once; a bad value fails
 * boot with every problem listed, and the result is frozen.
 */

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .refine((v) => v === undefined || protocols.some((p) => v.startsWith(p)), {
      message: `must start with ${protocols.join(" or ")}`,
    });

const EnvSchema = z.object({
  PORT: int(8080).pipe(z.number().max(65535)),
  HOST: z.string().min(1).default("127.0.0.1"),
  // One seed or a comma-separated list (see nats-servers.ts).
  NATS_URL: z
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
  SEA_DATABASE_URL: optionalUrl(["postgres://", "postgresql://"]),
  VIBESPRO_DATABASE_URL: optionalUrl(["postgres://", "postgresql://"]),
  GATEWAY_JWT_SECRET: z
    .string()
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .refine((v) => v === undefined || Buffer.byteLength(v) >= 32, {
      message: "must be at least 32 bytes (RFC 7518 §3.2: an HS256 key is at least 256 bits)",
    }),
  GATEWAY_JWKS_URL: optionalUrl(["http://", "https://"]),
  GATEWAY_JWT_ISSUER: z.string().min(1).optional(),
  GATEWAY_JWT_AUDIENCE: z.string().min(1).optional(),
  GATEWAY_JWT_CLOCK_TOLERANCE_SECS: int(5),
  GATEWAY_JWKS_COOLDOWN_MS: int(30_000),
  GATEWAY_REVOKED_JTIS_FILE: z.string().min(1).optional(),
  MAX_BODY_BYTES: int(512 * 1024, 1024),
  MAX_MESSAGES: int(500, 1),
  MAX_PROMPT_CHARS: int(400_000, 1),
  DEFAULT_RPM: int(0),
  DEFAULT_MAX_STREAMS: int(0),
  REQUEST_DEADLINE_MS: int(600_000, 100),
  REQUEST_RECEIVE_TIMEOUT_MS: int(30_000, 100),
  SHED_EVENT_LOOP_DELAY_MS: int(500, 1),
  SHED_HEAP_RATIO: z.coerce.number().min(0.1).max(1).default(0.92),
  NATS_CREDS_FILE: z.string().min(1).optional(),
  // A JetStream cluster keeps at most 5 copies of a stream.
  JETSTREAM_REPLICAS: int(1, 1).pipe(z.number().max(5)),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  BATCH_SIZE: int(50, 1),
  PG_POOL_SIZE: int(8, 1),
  PG_POOL_WAIT_MS: int(30_000, 100),
  MAX_INFLIGHT: int(2048, 1),
  ACK_WAIT_SECS: int(4, 1),
  MAX_DELIVER: int(20, 1),
  DLQ_SUBJECT: z
    .string()
    .default(DEFAULT_DLQ_SUBJECT)
    .refine(
      (v) =>
        v
          .replace("{context}", "ctx")
          .split(".")
          .every((t) => SUBJECT_TOKEN.test(t)),
      {
        message: "must be dot-separated subject tokens, with {context} for the context name",
      },
    ),
  ECHO_DELAY_MS: int(0),
  SSE_KEEPALIVE_MS: int(15_000, 100),
  STREAM_CANCEL_GRACE_MS: int(0),
  OUTAGE_WAIT_MS: int(30_000),
  DOMAIN_EVENT_STREAMS: z.string().default(DEFAULT_EVENT_STREAMS),
  WS_MAX_BUFFERED_BYTES: int(4 * 1024 * 1024, 1024),
  WS_SLOW_READER_MS: int(30_000, 100),
  WS_PING_INTERVAL_MS: int(30_000, 100),
  WS_MAX_SUBSCRIPTIONS: int(256, 1),
  NATS_NAMESPACE: z.string().regex(SUBJECT_TOKEN).optional(),
  DATA_DIR: z.string().min(1).optional(),
  RELAY_BATCH_SIZE: int(100, 1),
  RELAY_POLL_MS: int(1000, 10),
  OUTBOX_DISPATCH_GRACE_MS: int(1000),
  CAPABILITIES_FILE: z.string().min(1).optional(),
  UPSTREAM_OPENAI_BASE_URL: optionalUrl(["http://", "https://"]),
  UPSTREAM_OPENAI_API_KEY: z.string().optional(),
  UPSTREAM_MODEL: z.string().min(1).optional(),
  SEA_HANDLER_URL: optionalUrl(["http://", "https://"]),
  VIBESPRO_HANDLER_URL: optionalUrl(["http://", "https://"]),
  HANDLER_TIMEOUT_MS: int(120_000, 100),
  EMBEDDED_POSTGRES_PORT: int(54329, 1).pipe(z.number().max(65535)),
  EMBEDDED_NATS_PORT: int(14222, 1).pipe(z.number().max(65535)),
  SEA_APP_PASSWORD: z.string().min(1).optional(),
  VIBESPRO_APP_PASSWORD: z.string().min(1).optional(),
  SEA_GATEWAY_PASSWORD: z.string().min(1).optional(),
  SHUTDOWN_GRACE_MS: int(10_000),
  METRICS_ENABLED: z
    .enum(["true", "false"], { error: "must be true or false" })
    .default("true")
    .transform((v) => v === "true"),
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  METRICS_SAMPLE_MS: int(5_000, 100),
  STATUS_HEALTH_URLS: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl(["http://", "https://"]),
});

/** Every environment variable the gateway reads (README.md's configuration table lists them). */
export const ENV_VARIABLES: readonly string[] = Object.freeze(Object.keys(EnvSchema.shape));

/** The default of each variable that has one, as the schema applies it. */
export function envDefaults(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(EnvSchema.shape)
      .map(([k, schema]) => [k, (schema as z.ZodType).safeParse(undefined).data])
      .filter(([, v]) => v !== undefined),
  );
}

/** The validated configuration. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly natsUrl: string | undefined;
  readonly databaseUrls: {
    readonly sea: string | undefined;
    readonly vibespro: string | undefined;
  };
  readonly jwtSecret: string | undefined;
  /** Token checks (RFC 8725): a JWKS instead of the secret, issuer, audience, clock skew. */
  readonly auth: {
    readonly jwksUrl: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
    readonly clockToleranceSecs: number;
    /** Least time between two JWKS fetches triggered by unknown key ids. */
    readonly jwksCooldownMs: number;
    /** A file of revoked key ids (`jti`), one per line, reloaded while running. */
    readonly revokedJtisFile: string | undefined;
  };
  /** Resource limits (OWASP API4): sizes, rates, concurrency, time, load. */
  readonly limits: {
    readonly maxBodyBytes: number;
    readonly maxMessages: number;
    readonly maxPromptChars: number;
    /** Requests per minute per key when the key names none (0 = unlimited). */
    readonly defaultRpm: number;
    /** Concurrent open streams per key when the key names none (0 = unlimited). */
    readonly defaultMaxStreams: number;
    readonly requestDeadlineMs: number;
    readonly receiveTimeoutMs: number;
    readonly shedEventLoopDelayMs: number;
    readonly shedHeapRatio: number;
  };
  readonly natsCredsFile: string | undefined;
  /** Copies of each stream the context provisions (3 on a JetStream cluster of 3 or more). */
  readonly jetstreamReplicas: number;
  readonly logLevel: z.infer<typeof EnvSchema>["LOG_LEVEL"];
  /** Connections per context database (a fixed pool, independent of handler concurrency). */
  readonly postgres: { readonly poolSize: number; readonly poolWaitMs: number };
  readonly worker: {
    readonly batchSize: number;
    readonly maxInflight: number;
    readonly ackWaitMs: number;
    readonly maxDeliver: number;
  };
  readonly dlqSubject: string;
  readonly echoDelayMs: number;
  /** Idle interval between SSE keep-alive comments. */
  readonly keepAliveMs: number;
  /** How long a plain stream whose last reader left keeps running for a resume (0 = none). */
  readonly streamCancelGraceMs: number;
  /** How long a new request waits through an outage of its context's database (0 = not). */
  readonly outageWaitMs: number;
  /** Event streams tenants may subscribe to, and where their tenant token sits. */
  readonly domainEventStreams: readonly EventStreamRule[];
  /** Per-socket WebSocket limits. */
  readonly websocket: {
    readonly maxBufferedBytes: number;
    readonly slowReaderMs: number;
    readonly pingIntervalMs: number;
    readonly maxSubscriptions: number;
  };
  readonly namespace: string;
  /** `DATA_DIR`; undefined means `.data` in the project folder (see bin/data-dir.ts). */
  readonly dataDir: string | undefined;
  readonly relay: {
    readonly batchSize: number;
    readonly pollMs: number;
    /** How long relays leave a fresh row to the process that wrote and dispatches it. */
    readonly dispatchGraceMs: number;
  };
  readonly capabilitiesFile: string | undefined;
  /** An OpenAI-compatible model server for the `openai` handler. */
  readonly upstream: {
    readonly baseUrl: string | undefined;
    readonly apiKey: string | undefined;
    readonly model: string | undefined;
  };
  /** Handler services (the HTTP handler contract) per context, for the `http` handler. */
  readonly handlerUrls: { readonly sea: string | undefined; readonly vibespro: string | undefined };
  readonly handlerTimeoutMs: number;
  /** True when no external NATS or Postgres is configured: run embedded ones. */
  readonly embedded: {
    readonly nats: boolean;
    readonly postgres: boolean;
    readonly natsPort: number;
    readonly postgresPort: number;
  };
  /**
   * Passwords `migrate` gives the least-privilege roles it creates (`sea_app`, `vibespro_app`,
   * `sea_gateway`); undefined leaves a role's password as it is.
   */
  /** How long a shutdown lets open streams and handlers finish before ending them. */
  readonly shutdownGraceMs: number;
  /** Prometheus metrics, health listeners of relays and workers, the status page. */
  readonly observability: {
    /** False: nothing is recorded and `/metrics` is not served. */
    readonly metricsEnabled: boolean;
    /** Where a process opens its own `/metrics` and `/health/*` listener (relays, workers). */
    readonly metricsPort: number | undefined;
    /** How often gauges read from Postgres and JetStream are sampled. */
    readonly sampleMs: number;
    /** Other processes' readiness URLs the status page shows, by name. */
    readonly healthUrls: readonly { readonly name: string; readonly url: string }[];
    /** OTLP/HTTP base URL; traces are exported only when it is set. */
    readonly otlpEndpoint: string | undefined;
  };
  readonly rolePasswords: {
    readonly sea_app: string | undefined;
    readonly vibespro_app: string | undefined;
    readonly sea_gateway: string | undefined;
  };
}

/**
 * `STATUS_HEALTH_URLS`: `name=url` pairs, comma-separated (e.g.
 * `relay=http://relay:9091/health/ready,worker-sea=http://worker-sea:9091/health/ready`).
 */
function parseHealthUrls(
  text: string,
): { ok: true; urls: { name: string; url: string }[] } | { ok: false; problem: string } {
  const urls: { name: string; url: string }[] = [];
  for (const part of text.split(",").map((p) => p.trim())) {
    if (!part) continue;
    const at = part.indexOf("=");
    const name = part.slice(0, at).trim();
    const url = part.slice(at + 1).trim();
    if (at <= 0 || !/^https?:\/\/\S+$/.test(url)) {
      return { ok: false, problem: `'${part}' is not name=http(s)://…` };
    }
    urls.push({ name, url });
  }
  return { ok: true, urls };
}

/** Boot refused: every problem with the environment, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Reads and validates the configuration from `env` (the process environment by default). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  let healthUrls: { name: string; url: string }[] = [];
  let eventStreams: EventStreamRule[] = [];
  if (parsed.success) {
    const e = parsed.data;
    if (e.GATEWAY_JWKS_URL && e.GATEWAY_JWT_SECRET) {
      problems.push("GATEWAY_JWKS_URL and GATEWAY_JWT_SECRET: set one, not both");
    }
    if (e.GATEWAY_JWKS_URL && (!e.GATEWAY_JWT_ISSUER || !e.GATEWAY_JWT_AUDIENCE)) {
      problems.push("GATEWAY_JWKS_URL: also set GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE");
    }
    const urls = parseHealthUrls(e.STATUS_HEALTH_URLS ?? "");
    if (urls.ok) healthUrls = urls.urls;
    else problems.push(`STATUS_HEALTH_URLS: ${urls.problem}`);
    const rules = parseEventStreamRules(e.DOMAIN_EVENT_STREAMS);
    if (rules.ok) eventStreams = rules.rules;
    else problems.push(...rules.problems.map((p) => `DOMAIN_EVENT_STREAMS: ${p}`));
    if ((e.SEA_DATABASE_URL === undefined) !== (e.VIBESPRO_DATABASE_URL === undefined)) {
      problems.push(
        "SEA_DATABASE_URL and VIBESPRO_DATABASE_URL: set both, or neither to use the embedded Postgres",
      );
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    natsUrl: e.NATS_URL,
    databaseUrls: Object.freeze({ sea: e.SEA_DATABASE_URL, vibespro: e.VIBESPRO_DATABASE_URL }),
    jwtSecret: e.GATEWAY_JWT_SECRET,
    auth: Object.freeze({
      jwksUrl: e.GATEWAY_JWKS_URL,
      issuer: e.GATEWAY_JWT_ISSUER,
      audience: e.GATEWAY_JWT_AUDIENCE,
      clockToleranceSecs: e.GATEWAY_JWT_CLOCK_TOLERANCE_SECS,
      jwksCooldownMs: e.GATEWAY_JWKS_COOLDOWN_MS,
      revokedJtisFile: e.GATEWAY_REVOKED_JTIS_FILE,
    }),
    limits: Object.freeze({
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxMessages: e.MAX_MESSAGES,
      maxPromptChars: e.MAX_PROMPT_CHARS,
      defaultRpm: e.DEFAULT_RPM,
      defaultMaxStreams: e.DEFAULT_MAX_STREAMS,
      requestDeadlineMs: e.REQUEST_DEADLINE_MS,
      receiveTimeoutMs: e.REQUEST_RECEIVE_TIMEOUT_MS,
      shedEventLoopDelayMs: e.SHED_EVENT_LOOP_DELAY_MS,
      shedHeapRatio: e.SHED_HEAP_RATIO,
    }),
    natsCredsFile: e.NATS_CREDS_FILE,
    jetstreamReplicas: e.JETSTREAM_REPLICAS,
    logLevel: e.LOG_LEVEL,
    postgres: Object.freeze({ poolSize: e.PG_POOL_SIZE, poolWaitMs: e.PG_POOL_WAIT_MS }),
    worker: Object.freeze({
      batchSize: e.BATCH_SIZE,
      maxInflight: e.MAX_INFLIGHT,
      ackWaitMs: e.ACK_WAIT_SECS * 1000,
      maxDeliver: e.MAX_DELIVER,
    }),
    dlqSubject: e.DLQ_SUBJECT,
    echoDelayMs: e.ECHO_DELAY_MS,
    keepAliveMs: e.SSE_KEEPALIVE_MS,
    streamCancelGraceMs: e.STREAM_CANCEL_GRACE_MS,
    outageWaitMs: e.OUTAGE_WAIT_MS,
    domainEventStreams: Object.freeze(eventStreams),
    websocket: Object.freeze({
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      slowReaderMs: e.WS_SLOW_READER_MS,
      pingIntervalMs: e.WS_PING_INTERVAL_MS,
      maxSubscriptions: e.WS_MAX_SUBSCRIPTIONS,
    }),
    namespace: e.NATS_NAMESPACE ?? "",
    dataDir: e.DATA_DIR,
    relay: Object.freeze({
      batchSize: e.RELAY_BATCH_SIZE,
      pollMs: e.RELAY_POLL_MS,
      dispatchGraceMs: e.OUTBOX_DISPATCH_GRACE_MS,
    }),
    capabilitiesFile: e.CAPABILITIES_FILE,
    upstream: Object.freeze({
      baseUrl: e.UPSTREAM_OPENAI_BASE_URL,
      apiKey: e.UPSTREAM_OPENAI_API_KEY,
      model: e.UPSTREAM_MODEL,
    }),
    handlerUrls: Object.freeze({ sea: e.SEA_HANDLER_URL, vibespro: e.VIBESPRO_HANDLER_URL }),
    handlerTimeoutMs: e.HANDLER_TIMEOUT_MS,
    embedded: Object.freeze({
      nats: e.NATS_URL === undefined,
      postgres: e.SEA_DATABASE_URL === undefined,
      natsPort: e.EMBEDDED_NATS_PORT,
      postgresPort: e.EMBEDDED_POSTGRES_PORT,
    }),
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    observability: Object.freeze({
      metricsEnabled: e.METRICS_ENABLED,
      metricsPort: e.METRICS_PORT,
      sampleMs: e.METRICS_SAMPLE_MS,
      healthUrls: Object.freeze(healthUrls),
      otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    }),
    rolePasswords: Object.freeze({
      sea_app: e.SEA_APP_PASSWORD,
      vibespro_app: e.VIBESPRO_APP_PASSWORD,
      sea_gateway: e.SEA_GATEWAY_PASSWORD,
    }),
  });
}

const LspEnvSchema = z.object({
  SEA_GATEWAY_URL: optionalUrl(["http://", "https://"]).transform(
    (v) => v ?? "http://127.0.0.1:8080",
  ),
  SEA_API_KEY: z
    .string({ error: "is required (a key from `sea-gateway keys create`)" })
    .trim()
    .min(1, "is required (a key from `sea-gateway keys create`)"),
  SEA_LSP_VALIDATE_LANGUAGES: z.string().default("markdown,yaml"),
  SEA_LSP_VALIDATE_ACTION: z.string().min(1).default("validate_spec"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** The language server's configuration (`sea-gateway lsp`). */
export interface LspConfig {
  /** The gateway's base URL, without `/v1`. */
  readonly gatewayUrl: string;
  readonly apiKey: string;
  /** Language ids whose documents are validated on open and save. */
  readonly validateLanguages: readonly string[];
  /** The action that validates them (its diagnostics are published). */
  readonly validateAction: string;
  readonly logLevel: z.infer<typeof LspEnvSchema>["LOG_LEVEL"];
}

/** Reads and validates the language server's configuration from `env`. */
export function loadLspConfig(env: Record<string, string | undefined> = process.env): LspConfig {
  const parsed = LspEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  return Object.freeze({
    gatewayUrl: e.SEA_GATEWAY_URL.replace(/\/+$/, "").replace(/\/v1$/, ""),
    apiKey: e.SEA_API_KEY,
    validateLanguages: Object.freeze(
      e.SEA_LSP_VALIDATE_LANGUAGES.split(",")
        .map((l) => l.trim())
        .filter(Boolean),
    ),
    validateAction: e.SEA_LSP_VALIDATE_ACTION,
    logLevel: e.LOG_LEVEL,
  });
}

const AcpEnvSchema = z.object({
  SEA_GATEWAY_URL: optionalUrl(["http://", "https://"]),
  // Optional here: without a key the agent still starts and answers auth_required.
  SEA_API_KEY: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === "" ? undefined : v)),
  SEA_ACP_MODEL: z.string().trim().min(1).default("sea"),
  XDG_CONFIG_HOME: z.string().optional(),
  HOME: z.string().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** The ACP agent's configuration (`sea-gateway acp`). */
export interface AcpConfig {
  /** The gateway's base URL, without `/v1`; absent: the stored login's, else the default. */
  readonly gatewayUrl: string | undefined;
  readonly apiKey: string | undefined;
  /** The chat model prompts run on. */
  readonly model: string;
  /** Where `sea-gateway acp --login` keeps the URL and key (mode 0600). */
  readonly credentialsFile: string;
  readonly logLevel: z.infer<typeof AcpEnvSchema>["LOG_LEVEL"];
}

/** A gateway URL without trailing slashes or `/v1`. */
export const gatewayBase = (url: string) => url.replace(/\/+$/, "").replace(/\/v1$/, "");

/** Reads and validates the ACP agent's configuration from `env`. */
export function loadAcpConfig(env: Record<string, string | undefined> = process.env): AcpConfig {
  const parsed = AcpEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  const configHome = e.XDG_CONFIG_HOME || `${e.HOME ?? "."}/.config`;
  return Object.freeze({
    gatewayUrl: e.SEA_GATEWAY_URL ? gatewayBase(e.SEA_GATEWAY_URL) : undefined,
    apiKey: e.SEA_API_KEY,
    model: e.SEA_ACP_MODEL,
    credentialsFile: `${configHome}/sea-gateway/acp-login.json`,
    logLevel: e.LOG_LEVEL,
  });
}
