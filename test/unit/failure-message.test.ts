import { describe, expect, it } from "vitest";
import { failureDetail, failureLine, redactText, redactUrl } from "../../bin/failure-message.js";
import { StartupError } from "../../src/startup-error.js";

describe("failure messages", () => {
  it("redact passwords in URLs, and NATS tokens given as the user", () => {
    expect(redactUrl("postgres://app:s3cret@db:5432/sea_db")).toBe(
      "postgres://app:***@db:5432/sea_db",
    );
    expect(redactUrl("postgres://app@db/sea_db")).toBe("postgres://app@db/sea_db");
    expect(redactUrl("nats://tok3n@nats:4222", { userIsSecret: true })).toBe(
      "nats://***@nats:4222",
    );
    expect(redactUrl("nats://u:p@nats:4222", { userIsSecret: true })).toBe(
      "nats://u:***@nats:4222",
    );
    expect(redactText("cannot reach postgres://a:b@h/x or nats://c:d@h:1")).toBe(
      "cannot reach postgres://a:***@h/x or nats://c:***@h:1",
    );
  });

  it("are one line, never empty, never a stack; the detail keeps the causes", () => {
    const refused = Object.assign(new Error(""), { code: "ECONNREFUSED" });
    expect(failureLine(refused)).toBe("ECONNREFUSED");
    expect(failureLine(undefined)).toBe(
      "failed without giving a reason; LOG_LEVEL=debug shows more",
    );
    expect(failureLine("plain text")).toBe("plain text");
    expect(failureLine(new Error("first line\nsecond line"))).toBe("first line");
    const wrapped = new StartupError("NATS_URL=nats://u:***@h refused", new Error("inner"));
    expect(failureLine(wrapped)).toBe("NATS_URL=nats://u:***@h refused");
    const detail = failureDetail(wrapped);
    expect(detail).toMatch(/^StartupError: NATS_URL/);
    expect(detail).toContain("caused by: Error: inner");
    expect(detail).toMatch(/\n\s+at /);
  });
});
