import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { runCli } from "../helpers/cli.js";
import { createTestWorld, eventually, TEST_SECRET } from "../helpers/env.js";
import { JwksServer } from "../helpers/jwks-server.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

const now = () => Math.floor(Date.now() / 1000);

function chat(baseURL: string, token: string, model = "sea") {
  return fetch(`${baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("HS256 keys", () => {
  const world = createTestWorld("authhs");
  let system: TestSystem;
  let revokedFile: string;

  beforeAll(async () => {
    revokedFile = path.join(await mkdtemp(path.join(tmpdir(), "revoked-")), "revoked.txt");
    system = await startTestSystem(
      world,
      testCatalog([{ id: "sea-secret", context: "sea", handler: "echo" }]),
      { GATEWAY_REVOKED_JTIS_FILE: revokedFile },
    );
    await system.startWorkers(new HandlerRegistry().register(echoHandler()));
  });

  afterAll(async () => {
    await system?.stop();
    await world.cleanup();
  });

  it("refuses a tampered payload and a tenant that could widen a subject, writing nothing", async () => {
    const before = await system.outboxCount();
    const good = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 600 });
    const [h, p, sig] = good.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, tenant: "other" })).toString("base64url")}.${sig}`;
    expect((await chat(system.baseURL, tampered)).status).toBe(401);
    const secret = new TextEncoder().encode(TEST_SECRET);
    for (const tenant of ["a.b", "*", ">", "a b", "t\u0000", "é", "a\n"]) {
      const t = await new SignJWT({ tenant, exp: now() + 60 })
        .setProtectedHeader({ alg: "HS256" })
        .sign(secret);
      expect((await chat(system.baseURL, t)).status, JSON.stringify(tenant)).toBe(401);
    }
    // HS384 with the right secret is still refused: the allow-list is HS256 only.
    const hs384 = await new SignJWT({ tenant: "acme", exp: now() + 60 })
      .setProtectedHeader({ alg: "HS384" })
      .sign(secret);
    expect((await chat(system.baseURL, hs384)).status).toBe(401);
    expect(await system.outboxCount()).toBe(before);
  });

  it("refuses a revoked key within a second of the list changing, without a restart", async () => {
    const key = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 600 });
    expect((await chat(system.baseURL, key)).status).toBe(200);
    const jti = JSON.parse(Buffer.from(key.split(".")[1]!, "base64url").toString()).jti as string;
    await writeFile(revokedFile, `# revoked keys\n${jti}\n`);
    await eventually(
      async () => (await chat(system.baseURL, key)).status === 401,
      5_000,
      "revoked",
    );
  });

  it("limits a key to its models: others are 404, as if they did not exist", async () => {
    const key = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 600, models: ["sea"] });
    expect((await chat(system.baseURL, key, "sea")).status).toBe(200);
    const other = await chat(system.baseURL, key, "sea-secret");
    const missing = await chat(system.baseURL, key, "no-such-model");
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual(
      JSON.parse(JSON.stringify(await missing.json()).replaceAll("no-such-model", "sea-secret")),
    );
    const models = await fetch(`${system.baseURL}/models`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual([
      "sea",
    ]);
  });

  it("keys create refuses a tenant id that is not one subject token", async () => {
    for (const tenant of ["a.b", "a b", "*", ">", "é"]) {
      const r = await runCli(["keys", "create", "--tenant", tenant], world.env);
      expect(r.code, tenant).toBe(2);
      expect(r.stdout).toBe("");
    }
  });
});

describe("JWKS keys", () => {
  const world = createTestWorld("authjwks");
  const jwks = new JwksServer();
  let system: TestSystem;

  beforeAll(async () => {
    await jwks.start();
    system = await startTestSystem(world, testCatalog(), {
      GATEWAY_JWT_SECRET: "",
      GATEWAY_JWKS_URL: jwks.url,
      GATEWAY_JWT_ISSUER: "https://issuer.test",
      GATEWAY_JWT_AUDIENCE: "sea-gateway",
      GATEWAY_JWKS_COOLDOWN_MS: "0",
    });
    await system.startWorkers(new HandlerRegistry().register(echoHandler()));
  });

  afterAll(async () => {
    await system?.stop();
    await jwks.stop();
    await world.cleanup();
  });

  const claims = (extra: Record<string, unknown> = {}) => ({
    tenant: "acme",
    iss: "https://issuer.test",
    aud: "sea-gateway",
    exp: now() + 600,
    jti: randomUUID(),
    ...extra,
  });

  it("accepts a key signed by a published key", async () => {
    expect((await chat(system.baseURL, await jwks.sign(claims()))).status).toBe(200);
  });

  it.each([
    ["a wrong audience", { aud: "someone-else" }],
    ["a wrong issuer", { iss: "https://evil.test" }],
    ["no exp", { exp: undefined }],
    ["an expired exp", { exp: now() - 600 }],
  ])("refuses %s", async (_what, extra) => {
    expect((await chat(system.baseURL, await jwks.sign(claims(extra)))).status).toBe(401);
  });

  it("refuses a key the issuer never published, and HS256 made with anything", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    expect((await chat(system.baseURL, await jwks.sign(claims(), "k9", privateKey))).status).toBe(
      401,
    );
    const hs = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect((await chat(system.baseURL, hs)).status).toBe(401);
  });

  it("follows key rotation: a new key id makes it fetch the set again", async () => {
    await jwks.addKey("k2");
    expect((await chat(system.baseURL, await jwks.sign(claims(), "k2"))).status).toBe(200);
  });
});
