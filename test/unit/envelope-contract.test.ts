import { describe, expect, it } from "vitest";
import { decodeEnvelope } from "../../contracts/index.js";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

describe("envelope decoding is tolerant of other services on the cluster", () => {
  it("accepts an aggregate-service event with extra fields, command_id and version", () => {
    const r = decodeEnvelope(
      enc({
        event_id: "0b8f8a3e-2f7d-4c39-9d53-3f8c1f4c9a11",
        command_id: "c-77",
        version: 3,
        event_type: "AggregateCreated",
        tenant_id: "acme",
        aggregate_id: "agg-1",
        aggregate_type: "order",
        payload: { total: 12 },
        metadata: { source: "aggregate" },
      }),
    );
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.command_id).toBe("c-77");
      expect(r.value.version).toBe(3);
      expect(r.value).not.toHaveProperty("metadata");
    }
  });

  it("accepts an envelope without event_id, command_id or version", () => {
    const r = decodeEnvelope(enc({ event_type: "projection_updated", payload: {} }));
    expect(r.ok).toBe(true);
  });

  it("reports undecodable bytes and schema mismatches instead of throwing", () => {
    expect(decodeEnvelope(new Uint8Array([0xff, 0xfe, 0x00]))).toMatchObject({ ok: false });
    expect(decodeEnvelope(enc("{not json"))).toMatchObject({ ok: false });
    expect(decodeEnvelope(enc({ payload: {} }))).toMatchObject({
      ok: false,
      error: expect.stringContaining("schema mismatch"),
    });
  });
});
