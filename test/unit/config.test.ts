import { describe, expect, it } from "vitest";
import { ConfigError, ENV_VARIABLES, loadConfig } from "../../src/config.js";

describe("config", () => {
  it("defaults to embedded services on 127.0.0.1:8080", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe("127.0.0.1");
    expect(c.embedded).toEqual({
      nats: true,
      postgres: true,
      natsPort: 14222,
      postgresPort: 54329,
    });
    expect(c.worker).toEqual({
      batchSize: 50,
      maxInflight: 2048,
      ackWaitMs: 4_000,
      maxDeliver: 20,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("lists every problem once", () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: "http",
        NATS_URL: "localhost:4222",
        SEA_DATABASE_URL: "postgres://x/y",
        GATEWAY_JWT_SECRET: "short",
        MAX_DELIVER: "0",
        LOG_LEVEL: "loud",
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    for (const key of ["PORT", "NATS_URL", "GATEWAY_JWT_SECRET", "MAX_DELIVER", "LOG_LEVEL"]) {
      expect(problems.filter((p) => p.startsWith(`${key}:`))).toHaveLength(1);
    }
  });

  it("refuses one database URL without the other", () => {
    expect(() => loadConfig({ SEA_DATABASE_URL: "postgres://h/sea" })).toThrow(
      /set both, or neither/,
    );
  });

  // Every setting that arms a timer: Node fires a delay above 2^31-1 ms after 1 ms, so each is
  // bounded (ACK_WAIT_SECS so that its milliseconds fit). [variable, least, most]
  const MAX_MS = 2_147_483_647;
  const durations: [string, number, number][] = [
    ["GATEWAY_JWT_CLOCK_TOLERANCE_SECS", 0, 2_147_483],
    ["GATEWAY_JWKS_COOLDOWN_MS", 0, MAX_MS],
    ["REQUEST_DEADLINE_MS", 100, MAX_MS],
    ["REQUEST_RECEIVE_TIMEOUT_MS", 100, MAX_MS],
    ["SHED_EVENT_LOOP_DELAY_MS", 1, MAX_MS],
    ["PG_POOL_WAIT_MS", 100, MAX_MS],
    ["ACK_WAIT_SECS", 1, 2_147_483],
    ["ECHO_DELAY_MS", 0, MAX_MS],
    ["SSE_KEEPALIVE_MS", 100, MAX_MS],
    ["STREAM_CANCEL_GRACE_MS", 0, MAX_MS],
    ["OUTAGE_WAIT_MS", 0, MAX_MS],
    ["WS_SLOW_READER_MS", 100, MAX_MS],
    ["WS_PING_INTERVAL_MS", 100, MAX_MS],
    ["MCP_SESSION_IDLE_MS", 1_000, MAX_MS],
    ["RELAY_POLL_MS", 10, MAX_MS],
    ["OUTBOX_DISPATCH_GRACE_MS", 0, MAX_MS],
    ["HANDLER_TIMEOUT_MS", 100, MAX_MS],
    ["SHUTDOWN_GRACE_MS", 0, MAX_MS],
    ["METRICS_SAMPLE_MS", 100, MAX_MS],
  ];

  it("bounds every duration setting", () => {
    const named = ENV_VARIABLES.filter((v) => /_(MS|SECS)$/.test(v));
    expect(durations.map(([v]) => v).sort()).toEqual([...named].sort());
  });

  /** The problems loadConfig reports for one variable's value. */
  const problemsWith = (name: string, value: string): string[] => {
    try {
      loadConfig({ [name]: value });
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };

  it.each(durations)("%s accepts %i to %i and refuses what is outside", (name, min, max) => {
    const unit = name.endsWith("_SECS") ? "seconds" : "milliseconds";
    const range = `${name}: must be a whole number of ${unit} from ${min} to ${max}`;
    expect(problemsWith(name, String(max))).toEqual([]);
    expect(problemsWith(name, String(min))).toEqual([]);
    expect(problemsWith(name, String(max + 1))).toEqual([range]);
    expect(problemsWith(name, "2200000000000")).toEqual([range]);
    expect(problemsWith(name, String(min - 1))).toEqual([range]);
    expect(problemsWith(name, "1.5")).toEqual([range]);
    expect(problemsWith(name, "soon")).toEqual([range]);
  });

  it("keeps the longest ack wait within a timer's reach once in milliseconds", () => {
    const c = loadConfig({ ACK_WAIT_SECS: "2147483" });
    expect(c.worker.ackWaitMs).toBeLessThanOrEqual(MAX_MS);
  });
});
