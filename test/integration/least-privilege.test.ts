import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { resolveInfrastructure } from "../../bin/infrastructure.js";
import { Runtime } from "../../bin/runtime.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld, TEST_SECRET, testLog } from "../helpers/env.js";
import { testCatalog } from "../helpers/system.js";
import { sdkClient } from "../helpers/zed-fetch.js";

/**
 * compose.yaml's layout: migrate as the owner, the gateway as `sea_gateway`, relays and workers
 * as each context's `<context>_app` role, and only the gateway holding the signing secret.
 */
const world = createTestWorld("leastpriv");
const runtimes: Runtime[] = [];
let baseURL: string;

/** The test world's database URL of `ctx`, as `role`. */
function as(role: string, ctx: "sea" | "vibespro"): string {
  const u = new URL(world.databaseUrls[ctx]);
  u.username = role;
  return u.toString();
}

beforeAll(async () => {
  await Runtime.prepare(world.config(), world.infra(), testLog);
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
  await world.cleanup();
});

describe("least-privilege roles, one per process as compose.yaml runs them", () => {
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
});
