import { randomBytes } from "node:crypto";
import { connect } from "nats";
import pg from "pg";
import { pino } from "pino";
import { CONTEXTS, type ContextName } from "../../contracts/index.js";
import { loadConfig, type Config } from "../../src/config.js";
import type { Infrastructure } from "../../bin/infrastructure.js";

/** The services CI and the session provide (override with TEST_* variables). */
export const SYSTEM = {
  postgres: process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  nats: process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222",
};

export const TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef";

export const testLog = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

/** A unique, isolated world for one test file: its own namespace, streams and databases. */
export interface TestWorld {
  namespace: string;
  databaseUrls: Record<ContextName, string>;
  env: Record<string, string>;
  config(extra?: Record<string, string>): Config;
  infra(): Infrastructure;
  cleanup(): Promise<void>;
}

function dbUrl(name: string): string {
  const u = new URL(SYSTEM.postgres);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates a fresh namespace; databases are created by migrate, dropped by cleanup. */
export function createTestWorld(label: string): TestWorld {
  const namespace = `t${label.replace(/[^a-z0-9]/gi, "").toLowerCase()}${randomBytes(4).toString("hex")}`;
  const databaseUrls = {
    sea: dbUrl(`${namespace}_sea`),
    vibespro: dbUrl(`${namespace}_vibespro`),
  };
  const env: Record<string, string> = {
    NATS_URL: SYSTEM.nats,
    SEA_DATABASE_URL: databaseUrls.sea,
    VIBESPRO_DATABASE_URL: databaseUrls.vibespro,
    GATEWAY_JWT_SECRET: TEST_SECRET,
    NATS_NAMESPACE: namespace,
    PORT: "0",
    LOG_LEVEL: "silent",
    // Test files run in parallel on two cores: a start-up elsewhere can stall this loop past the
    // 500 ms default and shed this file's first requests with 503s. Shedding has its own test
    // (limits.test.ts sets its own threshold).
    SHED_EVENT_LOOP_DELAY_MS: "60000",
  };
  const config = (extra: Record<string, string> = {}) => loadConfig({ ...env, ...extra });
  return {
    namespace,
    databaseUrls,
    env,
    config,
    infra: () => ({
      natsUrl: SYSTEM.nats,
      databaseUrls,
      jwtSecret: TEST_SECRET,
      development: false,
      stop: async () => undefined,
    }),
    cleanup: () => dropWorld(namespace),
  };
}

/** Deletes every stream of the namespace and drops its databases. */
export async function dropWorld(namespace: string): Promise<void> {
  const nc = await connect({ servers: SYSTEM.nats });
  try {
    const jsm = await nc.jetstreamManager();
    const prefix = `${namespace.toUpperCase()}_`;
    for await (const s of jsm.streams.list()) {
      if (s.config.name.startsWith(prefix)) await jsm.streams.delete(s.config.name);
    }
  } finally {
    await nc.close();
  }
  const admin = new pg.Client({ connectionString: SYSTEM.postgres });
  await admin.connect();
  try {
    for (const ctx of CONTEXTS) {
      await admin.query(`DROP DATABASE IF EXISTS "${namespace}_${ctx}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws). */
export async function eventually<T>(
  fn: () => Promise<T> | T,
  timeoutMs = 10_000,
  what = "condition",
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
