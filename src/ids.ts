import { createHash } from "node:crypto";

/**
 * Deterministic ids: the same inputs always name the same command or stream, so a retried
 * request (same idempotency key) or a repeated cancel meets the row it wrote before instead of
 * writing another.
 */

/** Namespaces of our name-based UUIDs (random v4 values, fixed once). */
export const ID_NAMESPACES = {
  stream: "6f0f3e5c-4a0b-4d39-9c59-1a2b8c7d5e41",
  command: "2b7e1c55-0f6d-4f0e-8a3c-5d9e7f1a2b3c",
} as const;

/** An RFC 4122 version-5 (SHA-1, name-based) UUID of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const hash = createHash("sha1").update(ns).update(name, "utf8").digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Hex SHA-256 of a text. */
export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
