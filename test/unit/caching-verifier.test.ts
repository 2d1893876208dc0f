import { describe, expect, it } from "vitest";
import { CachingVerifier } from "../../src/gateway/http/caching-verifier.js";
import type { Principal, TokenVerifier } from "../../src/ports.js";

function countingVerifier(expiresAt?: number) {
  const calls: string[] = [];
  const v: TokenVerifier = {
    verify: async (t) => {
      calls.push(t);
      if (t === "bad") throw new Error("bad token");
      return { tenant: "acme", keyId: t, expiresAt } satisfies Principal;
    },
  };
  return { v, calls };
}

describe("CachingVerifier", () => {
  it("verifies a token once while it is cached", async () => {
    const { v, calls } = countingVerifier();
    let now = 0;
    const c = new CachingVerifier(v, { maxAgeMs: 1000, now: () => now });
    await c.verify("a");
    await c.verify("a");
    expect(calls).toEqual(["a"]);
    now = 1001;
    await c.verify("a");
    expect(calls).toEqual(["a", "a"]);
  });

  it("never serves a token past its exp", async () => {
    const { v, calls } = countingVerifier(10); // exp = 10 s
    let now = 9_000;
    const c = new CachingVerifier(v, { maxAgeMs: 60_000, now: () => now });
    await c.verify("a");
    now = 10_000;
    await c.verify("a");
    expect(calls).toHaveLength(2);
  });

  it("does not cache failures and evicts the oldest entry when full", async () => {
    const { v, calls } = countingVerifier();
    const c = new CachingVerifier(v, { maxEntries: 2 });
    await expect(c.verify("bad")).rejects.toThrow();
    await expect(c.verify("bad")).rejects.toThrow();
    await c.verify("a");
    await c.verify("b");
    await c.verify("c"); // evicts "a"
    await c.verify("a");
    expect(calls).toEqual(["bad", "bad", "a", "b", "c", "a"]);
  });
});
