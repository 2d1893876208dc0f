import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { sdkClient } from "../helpers/zed-fetch.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { startNatsServer, type NatsServerProcess } from "../../adapters/embedded/nats-server.js";
import { observe } from "../../bin/observability.js";
import type { Role } from "../../bin/roles.js";
import { Runtime } from "../../bin/runtime.js";
import type { Config } from "../../src/config.js";
import { loadConfig } from "../../src/config.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld, TEST_SECRET, testLog } from "../helpers/env.js";
import { freePort } from "../helpers/outbox.js";
import { testCatalog } from "../helpers/system.js";

// The shipped least-privilege configuration, on a private nats-server, with each role
// connected as its own user: if a permission is missing, the request below cannot complete.
const world = createTestWorld("natsperm");
const PASSWORDS = {
  NATS_ADMIN_PASSWORD: "admin-pw",
  NATS_GATEWAY_PASSWORD: "gateway-pw",
  NATS_RELAY_PASSWORD: "relay-pw",
  NATS_WORKER_SEA_PASSWORD: "worker-sea-pw",
  NATS_WORKER_VIBESPRO_PASSWORD: "worker-vibespro-pw",
};
let server: NatsServerProcess;
let storeDir: string;
const runtimes: Runtime[] = [];
/** Each role's runtime, as the CLI would observe it. */
const roles: { runtime: Runtime; role: Role; contexts: ("sea" | "vibespro")[]; config: Config }[] =
  [];
let baseURL: string;

beforeAll(async () => {
  const port = await freePort();
  storeDir = await mkdtemp(path.join(tmpdir(), "natsperm-"));
  server = await startNatsServer({
    port,
    storeDir,
    log: testLog,
    extraArgs: ["-c", path.resolve("examples/nats-permissions.conf")],
    env: PASSWORDS,
  });
  const urlFor = (user: string, pw: string) => `nats://${user}:${pw}@127.0.0.1:${port}`;
  const env = { ...world.env, PORT: "0", METRICS_SAMPLE_MS: "100" } as Record<string, string>;
  delete env.NATS_NAMESPACE; // the example is written for the default subjects
  const as = (user: string, pw: string) => {
    const config = loadConfig({ ...env, NATS_URL: urlFor(user, pw) });
    return { config, infra: { ...world.infra(), natsUrl: urlFor(user, pw) } };
  };
  const admin = as("admin", PASSWORDS.NATS_ADMIN_PASSWORD);
  await Runtime.prepare(admin.config, admin.infra, testLog);
  const gw = as("gateway", PASSWORDS.NATS_GATEWAY_PASSWORD);
  const gateway = await Runtime.connect(gw.config, gw.infra, testLog, "gateway");
  runtimes.push(gateway);
  roles.push({ runtime: gateway, role: "gateway", contexts: [], config: gw.config });
  watchPermissions(gateway);
  const app = await gateway.startGateway(testCatalog());
  baseURL = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1`;
  const rl = as("relay", PASSWORDS.NATS_RELAY_PASSWORD);
  const relay = await Runtime.connect(rl.config, rl.infra, testLog, "relay");
  runtimes.push(relay);
  roles.push({ runtime: relay, role: "relay", contexts: [], config: rl.config });
  watchPermissions(relay);
  relay.startRelay("sea");
  relay.startRelay("vibespro");
  for (const ctx of ["sea", "vibespro"] as const) {
    const pw =
      ctx === "sea" ? PASSWORDS.NATS_WORKER_SEA_PASSWORD : PASSWORDS.NATS_WORKER_VIBESPRO_PASSWORD;
    const w = as(`worker_${ctx}`, pw);
    const worker = await Runtime.connect(w.config, w.infra, testLog, `worker-${ctx}`);
    runtimes.push(worker);
    roles.push({ runtime: worker, role: "worker", contexts: [ctx], config: w.config });
    watchPermissions(worker);
    await worker.startWorker(ctx, new HandlerRegistry().register(echoHandler()));
  }
});

afterAll(async () => {
  for (const r of runtimes.reverse()) await r.stop(1_000);
  await server?.stop();
  await rm(storeDir, { recursive: true, force: true });
  await world.cleanup();
});

/** Every permission the server refused a role (a refused publish or subscription fails silently). */
const refused: string[] = [];
function watchPermissions(r: Runtime): void {
  void (async () => {
    for await (const s of r.nc.status()) {
      if (String(s.data).toLowerCase().includes("permission")) refused.push(String(s.data));
    }
  })();
}

describe("examples/nats-permissions.conf", () => {
  it("lets the gateway user check readiness", async () => {
    expect((await fetch(baseURL.replace(/\/v1$/, "/health/ready"))).status).toBe(200);
  });

  it.each(["sea", "vibespro"])(
    "is enough for gateway, relay and %s worker users to serve a stream",
    async (model) => {
      const client = sdkClient(
        baseURL,
        await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 600 }),
      );
      const stream = await client.chat.completions.create({
        model,
        stream: true,
        messages: [{ role: "user", content: "least privilege works" }],
      });
      let text = "";
      for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
      expect(text).toBe("least privilege works");
      // Served through the permitted subjects, not by a fallback around a refused one.
      expect(refused).toEqual([]);
    },
  );

  it("lets each role check its readiness and sample its metrics (consumers, dead letters)", async () => {
    for (const { runtime, role, contexts, config } of roles) {
      const obs = observe(runtime, { role, workerContexts: contexts, config, log: testLog });
      await obs.start();
      const snapshot = await obs.status.snapshot();
      expect(snapshot.processes[0], role).toMatchObject({ ready: true });
      // Two sampling rounds at least, then stop.
      await new Promise((r) => setTimeout(r, 300));
      await obs.close();
    }
    expect(refused).toEqual([]);
  });
});
