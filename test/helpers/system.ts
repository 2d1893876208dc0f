import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { CatalogFileSchema, type ContextName } from "../../contracts/index.js";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { Runtime } from "../../bin/runtime.js";
import { CapabilityCatalog, catalogFromFile } from "../../src/catalog.js";
import type { Log } from "../../src/log.js";
import type { HandlerRegistry } from "../../src/worker/handler.js";
import { TEST_SECRET, testLog, type TestWorld } from "./env.js";

/**
 * Test catalog: the defaults plus one model per test handler (or an action entry: `kind:
 * "action"`), and the built-in actions run by `echo` (as a catalog file would give them).
 */
export function testCatalog(
  extra: ({ id: string; context: ContextName; handler: string } & Record<string, unknown>)[] = [],
) {
  const file = CatalogFileSchema.parse({
    capabilities: [
      { id: "sea", context: "sea", handler: "echo" },
      { id: "vibespro", context: "vibespro", handler: "echo" },
      ...extra,
    ],
  });
  const merged = catalogFromFile(file);
  if (!merged.ok) throw new Error(merged.problems.join("\n"));
  return new CapabilityCatalog(merged.catalog);
}

/** A gateway and both relays in this process, against a test world's databases and streams. */
export interface TestSystem {
  runtime: Runtime;
  app: FastifyInstance;
  baseURL: string;
  apiKey: string;
  /** Rows in both contexts' outboxes (of one event type, if given). */
  outboxCount(eventType?: string): Promise<number>;
  /** Starts an extra runtime (own NATS connection) running workers; returns it to stop. */
  startWorkers(handlers: HandlerRegistry, contexts?: ContextName[]): Promise<Runtime>;
  /** Starts a second gateway instance (own runtime and NATS connection) on the same world. */
  startGateway(): Promise<{ baseURL: string; runtime: Runtime }>;
  stop(): Promise<void>;
}

export async function startTestSystem(
  world: TestWorld,
  catalog: CapabilityCatalog,
  env: Record<string, string> = {},
  /** The gateway's (and its relays') logger; silent by default. */
  opts: { log?: Log } = {},
): Promise<TestSystem> {
  const config = world.config(env);
  const infra = world.infra();
  await Runtime.prepare(config, infra, testLog);
  const runtime = await Runtime.connect(config, infra, opts.log ?? testLog, "test-gateway");
  runtime.startRelay("sea");
  runtime.startRelay("vibespro");
  const app = await runtime.startGateway(catalog);
  const { port } = app.server.address() as AddressInfo;
  const workers: Runtime[] = [];
  return {
    runtime,
    app,
    baseURL: `http://127.0.0.1:${port}/v1`,
    apiKey: await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 3600 }),
    async outboxCount(eventType) {
      let n = 0;
      for (const pool of Object.values(runtime.pools)) {
        const r = await pool.query(
          "SELECT count(*)::int AS n FROM outbox_events WHERE $1::text IS NULL OR event_type = $1",
          [eventType ?? null],
        );
        n += r.rows[0].n as number;
      }
      return n;
    },
    async startWorkers(handlers, contexts = ["sea", "vibespro"]) {
      const w = await Runtime.connect(config, infra, testLog, "test-worker");
      for (const ctx of contexts) await w.startWorker(ctx, handlers);
      workers.push(w);
      return w;
    },
    async startGateway() {
      const g = await Runtime.connect(config, infra, testLog, "test-gateway-2");
      const second = await g.startGateway(catalog);
      workers.push(g);
      const { port: p } = second.server.address() as AddressInfo;
      return { baseURL: `http://127.0.0.1:${p}/v1`, runtime: g };
    },
    async stop() {
      for (const w of workers) await w.stop(1_000);
      await runtime.stop(1_000);
    },
  };
}
