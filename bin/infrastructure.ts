import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { CONTEXTS, type ContextName } from "../contracts/index.js";
import { startEmbeddedPostgres } from "../adapters/embedded/postgres.js";
import { startNatsServer } from "../adapters/embedded/nats-server.js";
import { withDatabase } from "../adapters/postgres/pool.js";
import { ConfigError, type Config } from "../src/config.js";
import type { Log } from "../src/log.js";

/** Where the services are, whether configured or embedded. */
export interface Infrastructure {
  natsUrl: string;
  databaseUrls: Record<ContextName, string>;
  /** The HS256 secret; undefined when keys are checked against a JWKS. */
  jwtSecret: string | undefined;
  /** True when anything runs embedded: a development setup. */
  development: boolean;
  stop(): Promise<void>;
}

/** Reads the development signing secret under the data dir, creating it on first use. */
async function devSecret(dataDir: string): Promise<string> {
  const file = path.resolve(dataDir, "dev-jwt-secret");
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  await mkdir(path.dirname(file), { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  await writeFile(file, secret + "\n", { mode: 0o600 });
  return secret;
}

/**
 * Resolves NATS, both databases and the signing secret. With nothing configured it starts an
 * embedded PostgreSQL and a `nats-server` child, and keeps a development secret in the data dir.
 * `start` false only resolves the secret (for `keys create`).
 */
export async function resolveInfrastructure(
  config: Config,
  log: Log,
  opts: { start: boolean } = { start: true },
): Promise<Infrastructure> {
  const development = config.embedded.nats || config.embedded.postgres;
  let jwtSecret = config.jwtSecret;
  if (jwtSecret === undefined && !config.auth.jwksUrl) {
    if (!development) {
      throw new ConfigError([
        "GATEWAY_JWT_SECRET (or GATEWAY_JWKS_URL): required when NATS_URL and the database URLs are set",
      ]);
    }
    jwtSecret = await devSecret(config.dataDir);
  }
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  const databaseUrls = { ...config.databaseUrls } as Record<ContextName, string | undefined>;
  let natsUrl = config.natsUrl;
  if (opts.start) {
    try {
      if (config.embedded.postgres) {
        const pg = await startEmbeddedPostgres({
          dataDir: path.join(config.dataDir, "postgres"),
          port: config.embedded.postgresPort,
          log,
        });
        stops.push(pg.stop);
        for (const ctx of CONTEXTS) databaseUrls[ctx] = withDatabase(pg.baseUrl, `${ctx}_db`);
      }
      if (config.embedded.nats) {
        const nats = await startNatsServer({
          port: config.embedded.natsPort,
          storeDir: path.resolve(config.dataDir, "nats"),
          log,
        });
        stops.push(nats.stop);
        natsUrl = nats.url;
      }
    } catch (err) {
      await stop();
      throw err;
    }
  }
  return {
    natsUrl: natsUrl ?? "",
    databaseUrls: { sea: databaseUrls.sea ?? "", vibespro: databaseUrls.vibespro ?? "" },
    jwtSecret,
    development,
    stop,
  };
}
