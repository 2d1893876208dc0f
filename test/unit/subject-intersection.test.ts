import { describe, expect, it } from "vitest";
import { intersectSubjects } from "../../adapters/nats/subject-intersection.js";

describe("intersectSubjects", () => {
  it.each([
    ["tenant.acme.>", "tenant.*.aggregate.*.*", "tenant.acme.aggregate.*.*"],
    ["tenant.acme.aggregate.order.*", "tenant.*.aggregate.*.*", "tenant.acme.aggregate.order.*"],
    ["tenant.acme.aggregate.order.1", "tenant.*.aggregate.*.*", "tenant.acme.aggregate.order.1"],
    ["a.*.c", "a.b.*", "a.b.c"],
    ["a.>", "a.>", "a.>"],
    ["a.b", "a.b", "a.b"],
  ])("%s ∩ %s = %s", (a, b, want) => {
    expect(intersectSubjects(a, b)).toBe(want);
    expect(intersectSubjects(b, a)).toBe(want);
  });

  it.each([
    ["tenant.acme.x", "tenant.*.aggregate.*.*"],
    ["tenant.acme", "tenant.*.aggregate.*.*"],
    ["a.>", "a"],
    ["a.b.c", "a.b"],
  ])("%s and %s share nothing", (a, b) => {
    expect(intersectSubjects(a, b)).toBeNull();
    expect(intersectSubjects(b, a)).toBeNull();
  });
});
