import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { Runtime } from "../../bin/runtime.js";
import { SYSTEM, createTestWorld, testLog } from "../helpers/env.js";

const world = createTestWorld("rolepw");
const ROLES = ["sea_app", "vibespro_app", "sea_gateway"] as const;

/** The stored SCRAM-SHA-256 verifier of each role (as the superuser reads pg_authid). */
async function verifiers(): Promise<Record<string, string | null>> {
  const c = new pg.Client({ connectionString: SYSTEM.postgres });
  await c.connect();
  try {
    const r = await c.query<{ rolname: string; rolpassword: string | null }>(
      "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)",
      [ROLES],
    );
    return Object.fromEntries(r.rows.map((x) => [x.rolname, x.rolpassword]));
  } finally {
    await c.end();
  }
}

/** True when `verifier` (RFC 7677, as PostgreSQL stores it) was made from `password`. */
function scramMatches(verifier: string | null, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier ?? "");
  if (!m) return false;
  const salted = pbkdf2Sync(password, Buffer.from(m[2]!, "base64"), Number(m[1]), 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest("base64");
  const serverKey = createHmac("sha256", salted).update("Server Key").digest("base64");
  return storedKey === m[3] && serverKey === m[4];
}

afterAll(async () => {
  // The roles are shared by every test database on this server: leave them as we found them.
  const c = new pg.Client({ connectionString: SYSTEM.postgres });
  await c.connect();
  try {
    for (const role of ROLES) await c.query(`ALTER ROLE ${role} PASSWORD NULL`);
  } finally {
    await c.end();
  }
  await world.cleanup();
});

describe("migrate's least-privilege roles", () => {
  it("get the passwords SEA_APP_PASSWORD, VIBESPRO_APP_PASSWORD and SEA_GATEWAY_PASSWORD name", async () => {
    const passwords = {
      SEA_APP_PASSWORD: "sea-app-pw-1",
      VIBESPRO_APP_PASSWORD: "vibespro-app-pw-2",
      SEA_GATEWAY_PASSWORD: "gateway-pw-3'quote",
    };
    await Runtime.prepare(world.config(passwords), world.infra(), testLog);
    const stored = await verifiers();
    expect(scramMatches(stored.sea_app!, passwords.SEA_APP_PASSWORD)).toBe(true);
    expect(scramMatches(stored.vibespro_app!, passwords.VIBESPRO_APP_PASSWORD)).toBe(true);
    expect(scramMatches(stored.sea_gateway!, passwords.SEA_GATEWAY_PASSWORD)).toBe(true);
    expect(scramMatches(stored.sea_app!, "wrong")).toBe(false);

    // Without the variables, migrate leaves the passwords alone.
    await Runtime.prepare(world.config(), world.infra(), testLog);
    expect(await verifiers()).toEqual(stored);
  });
});
