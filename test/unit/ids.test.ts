import { describe, expect, it } from "vitest";
import { stableJson, uuidV5 } from "../../src/ids.js";

describe("ids", () => {
  it("computes RFC 4122 version-5 UUIDs (the RFC's DNS example)", () => {
    // The DNS namespace and "www.example.com", as published by every UUID library.
    expect(uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe(
      "2ed6657d-e927-568b-95e1-2665a8aea6a2",
    );
  });

  it("writes equal values as equal text whatever their key order", () => {
    expect(stableJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      stableJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }),
    );
    expect(stableJson({ a: 1 })).not.toBe(stableJson({ a: 2 }));
  });
});
