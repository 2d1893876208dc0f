import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { resolveInfrastructure } from "../../bin/infrastructure.js";
import { Runtime } from "../../bin/runtime.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld, SYSTEM, TEST_SECRET, testLog } from "../helpers/env.js";
import { testCatalog } from "../helpers/system.js";
import { sdkClient } from "../helpers/zed-fetch.js";

/**
 * compose.yaml's layout: migrate as the owner gives the least-privilege roles their passwords;
 * the gateway runs as `sea_gateway`, relays and workers as each context's `<context>_app` role,
 * and only the gateway holds the signing secret.
 */
const world = createTestWorld("leastpriv");
const PASSWORDS = {
  SEA_APP_PASSWORD: "sea-app-pw-1",
  VIBESPRO_APP_PASSWORD: "vibespro-app-pw-2",
  SEA_GATEWAY_PASSWORD: "gateway-pw-3'quote",
};
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

const runtimes: Runtime[] = [];
let baseURL: string;

/** The test world's database URL of `ctx`, as `role`. */
function as(role: string, ctx: "sea" | "vibespro"): string {
  const u = new URL(world.databaseUrls[ctx]);
  u.username = role;
  return u.toString();
}

beforeAll(async () => {
  await Runtime.prepare(world.config(PASSWORDS), world.infra(), testLog);
  const gatewayInfra = {
    ...world.infra(),
    databaseUrls: { sea: as("sea_gateway", "sea"), vibespro: as("sea_gateway", "vibespro") },
  };
  const gateway = await Runtime.connect(world.config(), gatewayInfra, testLog, "lp-gateway");
  runtimes.push(gateway);
  const app = await gateway.startGateway(testCatalog());
  baseURL = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1`;

  // Relays and workers run without the signing secret.
  const appUrls = { sea: as("sea_app", "sea"), vibespro: as("vibespro_app", "vibespro") };
  const appConfig = world.config({
    GATEWAY_JWT_SECRET: "",
    SEA_DATABASE_URL: appUrls.sea,
    VIBESPRO_DATABASE_URL: appUrls.vibespro,
  });
  const appInfra = await resolveInfrastructure(appConfig, testLog, { verifiesKeys: false });
  expect(appInfra.jwtSecret).toBeUndefined();
  const workers = await Runtime.connect(appConfig, appInfra, testLog, "lp-workers");
  runtimes.push(workers);
  for (const ctx of ["sea", "vibespro"] as const) {
    workers.startRelay(ctx);
    await workers.startWorker(ctx, new HandlerRegistry().register(echoHandler()));
  }
});

afterAll(async () => {
  for (const r of runtimes) await r.stop(1_000);
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

describe("least-privilege roles, one per process as compose.yaml runs them", () => {
  it("get the passwords SEA_APP_PASSWORD, VIBESPRO_APP_PASSWORD and SEA_GATEWAY_PASSWORD name", async () => {
    const stored = await verifiers();
    expect(scramMatches(stored.sea_app!, PASSWORDS.SEA_APP_PASSWORD)).toBe(true);
    expect(scramMatches(stored.vibespro_app!, PASSWORDS.VIBESPRO_APP_PASSWORD)).toBe(true);
    expect(scramMatches(stored.sea_gateway!, PASSWORDS.SEA_GATEWAY_PASSWORD)).toBe(true);
    expect(scramMatches(stored.sea_app!, "wrong")).toBe(false);

    // Without the variables, migrate leaves the passwords alone.
    await Runtime.prepare(world.config(), world.infra(), testLog);
    expect(await verifiers()).toEqual(stored);
  });

  it.each(["sea", "vibespro"])("serve a %s stream end to end", async (model) => {
    const client = sdkClient(baseURL, await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 60 }));
    const stream = await client.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: "user", content: "least privilege works" }],
    });
    let got = "";
    for await (const chunk of stream) got += chunk.choices[0]?.delta.content ?? "";
    expect(got).toBe("least privilege works");
  });

  it("read a conversation's runs and the tenant's conversations as the gateway's role", async () => {
    const key = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 60 });
    const client = sdkClient(baseURL, key);
    await client.chat.completions.create(
      { model: "sea", messages: [{ role: "user", content: "kept in a conversation" }] },
      { headers: { "X-Conversation-Id": "lp-conv" } },
    );
    const auth = { authorization: `Bearer ${key}` };
    const runs = await fetch(`${baseURL}/conversations/lp-conv/runs`, { headers: auth });
    expect(runs.status).toBe(200);
    const body = (await runs.json()) as { data: { status: string }[] };
    expect(body.data.map((r) => r.status)).toEqual(["completed"]);
    const list = await fetch(`${baseURL}/conversations`, { headers: auth });
    expect(((await list.json()) as { data: { id: string }[] }).data.map((c) => c.id)).toEqual([
      "lp-conv",
    ]);
  });
});
