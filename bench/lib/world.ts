import { randomBytes } from "node:crypto";
import { connect } from "nats";
import pg from "pg";

export const PG = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const NATS = process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";

/**
 * A benchmark's own databases and stream namespace on the shared services (or on a private
 * nats-server at `natsUrl`).
 */
export function benchWorld(natsUrl: string = NATS) {
  const ns = `bench${randomBytes(3).toString("hex")}`;
  const db = (ctx: string) => {
    const u = new URL(PG);
    u.pathname = `/${ns}_${ctx}`;
    return u.toString();
  };
  const secret = randomBytes(32).toString("hex");
  return {
    ns,
    secret,
    env: {
      NATS_URL: natsUrl,
      SEA_DATABASE_URL: db("sea"),
      VIBESPRO_DATABASE_URL: db("vibespro"),
      GATEWAY_JWT_SECRET: secret,
      NATS_NAMESPACE: ns,
      LOG_LEVEL: "warn",
    } as Record<string, string>,
    /** The bench's own database names (for its Postgres backends' CPU). */
    databases: ["sea", "vibespro"].map((ctx) => `${ns}_${ctx}`),
    cleanup: async () => {
      const nc = await connect({ servers: natsUrl });
      const jsm = await nc.jetstreamManager();
      for await (const s of jsm.streams.list()) {
        if (s.config.name.startsWith(`${ns.toUpperCase()}_`))
          await jsm.streams.delete(s.config.name);
      }
      await nc.close();
      const admin = new pg.Client({ connectionString: PG });
      await admin.connect();
      for (const ctx of ["sea", "vibespro"])
        await admin.query(`DROP DATABASE IF EXISTS "${ns}_${ctx}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

export const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
