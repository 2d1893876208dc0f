import { z } from "zod";
import { DEFAULT_EVENT_STREAMS, parseEventStreamRules } from "../domain-event-rules.js";
import { durationMs, durationSecs, int, optionalText, optionalUrl } from "./builders.js";
import { setting } from "./settings.js";

/** `DOMAIN_EVENT_STREAMS` as rules (see domain-event-rules.ts). */
function eventStreamRules(text: string, fail: (problem: string) => void) {
  const rules = parseEventStreamRules(text);
  if (rules.ok) return Object.freeze(rules.rules);
  for (const p of rules.problems) fail(p);
  return Object.freeze([]);
}

/** Settings of the HTTP gateway (`up`, `gateway`; `keys create` reads the key settings). */
export const gatewaySettings = {
  // 0 asks the system for a free port (tests do).
  port: setting("PORT", int(8080).pipe(z.number().max(65535))),
  host: setting("HOST", z.string().min(1).default("127.0.0.1")),
  jwtSecret: setting(
    "GATEWAY_JWT_SECRET",
    z
      .string()
      .optional()
      .transform((v) => (v === "" ? undefined : v))
      .refine((v) => v === undefined || Buffer.byteLength(v) >= 32, {
        message: "must be at least 32 bytes (RFC 7518 §3.2: an HS256 key is at least 256 bits)",
      }),
  ),
  /** Token checks (RFC 8725): a JWKS instead of the secret, issuer, audience, clock skew. */
  auth: {
    jwksUrl: setting("GATEWAY_JWKS_URL", optionalUrl(["http://", "https://"])),
    issuer: setting("GATEWAY_JWT_ISSUER", optionalText()),
    audience: setting("GATEWAY_JWT_AUDIENCE", optionalText()),
    clockToleranceSecs: setting("GATEWAY_JWT_CLOCK_TOLERANCE_SECS", durationSecs(5)),
    /** Least time between two JWKS fetches triggered by unknown key ids. */
    jwksCooldownMs: setting("GATEWAY_JWKS_COOLDOWN_MS", durationMs(30_000)),
    /** A file of revoked key ids (`jti`), one per line, reloaded while running. */
    revokedJtisFile: setting("GATEWAY_REVOKED_JTIS_FILE", optionalText()),
  },
  /** Resource limits (OWASP API4): sizes, rates, concurrency, time, load. */
  limits: {
    maxBodyBytes: setting("MAX_BODY_BYTES", int(512 * 1024, 1024)),
    maxMessages: setting("MAX_MESSAGES", int(500, 1)),
    maxPromptChars: setting("MAX_PROMPT_CHARS", int(400_000, 1)),
    /** Requests per minute per key when the key names none (0 = unlimited). */
    defaultRpm: setting("DEFAULT_RPM", int(0)),
    /** Concurrent open streams per key when the key names none (0 = unlimited). */
    defaultMaxStreams: setting("DEFAULT_MAX_STREAMS", int(0)),
    requestDeadlineMs: setting("REQUEST_DEADLINE_MS", durationMs(600_000, 100)),
    receiveTimeoutMs: setting("REQUEST_RECEIVE_TIMEOUT_MS", durationMs(30_000, 100)),
    shedEventLoopDelayMs: setting("SHED_EVENT_LOOP_DELAY_MS", durationMs(500, 1)),
    shedHeapRatio: setting("SHED_HEAP_RATIO", z.coerce.number().min(0.1).max(1).default(0.92)),
  },
  /** Idle interval between SSE keep-alive comments. */
  keepAliveMs: setting("SSE_KEEPALIVE_MS", durationMs(15_000, 100)),
  /** How long a plain stream whose last reader left keeps running for a resume (0 = none). */
  streamCancelGraceMs: setting("STREAM_CANCEL_GRACE_MS", durationMs(0)),
  /** How long a new request waits through an outage of its context's database (0 = not). */
  outageWaitMs: setting("OUTAGE_WAIT_MS", durationMs(30_000)),
  /** Event streams tenants may subscribe to, and where their tenant token sits. */
  domainEventStreams: setting(
    "DOMAIN_EVENT_STREAMS",
    z.string().default(DEFAULT_EVENT_STREAMS),
    eventStreamRules,
  ),
  /** Per-socket WebSocket limits. */
  websocket: {
    maxBufferedBytes: setting("WS_MAX_BUFFERED_BYTES", int(4 * 1024 * 1024, 1024)),
    slowReaderMs: setting("WS_SLOW_READER_MS", durationMs(30_000, 100)),
    pingIntervalMs: setting("WS_PING_INTERVAL_MS", durationMs(30_000, 100)),
    /** Streams and event subscriptions one socket may follow at once. */
    maxSubscriptions: setting("WS_MAX_SUBSCRIPTIONS", int(256, 1)),
  },
  /** How long an unused MCP session lives (its client then initializes again). */
  mcpSessionIdleMs: setting("MCP_SESSION_IDLE_MS", durationMs(30 * 60_000, 1_000)),
} as const;
