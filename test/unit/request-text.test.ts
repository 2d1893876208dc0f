import { describe, expect, it } from "vitest";
import { isDatabaseOutage, isDataException, withDbRetry } from "../../src/db-retry.js";
import { findUnstorableText, jsonDepth, MAX_JSON_DEPTH } from "../../src/request-text.js";
import { testLog } from "../helpers/env.js";

describe("text Postgres cannot store", () => {
  it.each([
    ["a NUL", { a: "x\0" }, "a"],
    ["a lone high surrogate", { m: [{ c: "a\ud800" }] }, "m[0].c"],
    ["a lone low surrogate", ["ok", "\udc00b"], "[1]"],
    ["a NUL in a key", { tools: [{ "k\0": 1 }] }, "tools[0]"],
    ["a surrogate in a top-level key", { "\ud800": 1 }, "\ud800"],
  ])("finds %s, and where", (_, value, path) => {
    expect(findUnstorableText(value)?.path).toBe(path);
  });

  it.each([
    ["plain text", { a: "hello", b: ["é", 1, null, true] }],
    ["a valid surrogate pair (an emoji)", { a: "😀 ok" }],
    ["the text \\u0000 (not a NUL)", { a: "\\u0000" }],
  ])("passes %s", (_, value) => {
    expect(findUnstorableText(value)).toBeNull();
  });

  it("measures depth without recursion, even 100,000 deep", () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(jsonDepth(v)).toBe(MAX_JSON_DEPTH + 1);
    expect(jsonDepth({ a: [{ b: 1 }] })).toBe(3);
    expect(jsonDepth("x")).toBe(0);
  });
});

describe("which database errors are outages", () => {
  it.each([
    ["a refused connection", { code: "ECONNREFUSED" }, true],
    ["a reset pipe (a Node code, not a SQLSTATE)", { code: "EPIPE" }, true],
    ["a pool timeout (no code)", new Error("timeout exceeded when trying to connect"), true],
    ["connection failure 08006", { code: "08006" }, true],
    ["too many connections 53300", { code: "53300" }, true],
    ["admin shutdown 57P01", { code: "57P01" }, true],
    ["serialization failure 40001", { code: "40001" }, true],
    ["untranslatable character 22P05 (a lone surrogate in jsonb)", { code: "22P05" }, false],
    ["character not in repertoire 22021 (a NUL in text)", { code: "22021" }, false],
    ["unique violation 23505", { code: "23505" }, false],
    ["insufficient privilege 42501", { code: "42501" }, false],
  ])("%s: %s", (_, err, outage) => {
    expect(isDatabaseOutage(err)).toBe(outage);
  });

  it("knows a data exception by its class", () => {
    expect(isDataException({ code: "22P05" })).toBe(true);
    expect(isDataException({ code: "08006" })).toBe(false);
    expect(isDataException({ code: "ECONNREFUSED" })).toBe(false);
  });

  it("withDbRetry gives a data error back at once, and retries an outage", async () => {
    let calls = 0;
    const data = Object.assign(new Error("unsupported Unicode escape sequence"), { code: "22P05" });
    await expect(
      withDbRetry(
        "writing",
        async () => {
          calls++;
          throw data;
        },
        { forMs: 30_000 },
        testLog,
      ),
    ).rejects.toBe(data);
    expect(calls).toBe(1);
    calls = 0;
    const result = await withDbRetry(
      "writing",
      async () => {
        if (++calls < 3) throw Object.assign(new Error("gone"), { code: "57P01" });
        return "ok";
      },
      { forMs: 30_000, capMs: 1 },
      testLog,
    );
    expect({ result, calls }).toEqual({ result: "ok", calls: 3 });
  });
});
