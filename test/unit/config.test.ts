import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

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
});
