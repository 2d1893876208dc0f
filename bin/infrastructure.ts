import path from "node:path";
import { CONTEXTS, type ContextName } from "../contracts/index.js";
import { assertDataDirFree, startEmbeddedPostgres } from "../adapters/embedded/postgres.js";
import {
  assertNatsPortFree,
  assertNatsServerInstalled,
  startNatsServer,
} from "../adapters/embedded/nats-server.js";
import { withDatabase } from "../adapters/postgres/pool.js";
import type { Config } from "../src/config.js";
import type { Log } from "../src/log.js";
import { dataDir, signingSecret } from "./data-dir.js";

/** Where the services are, whether configured or embedded. */
export interface Infrastructure {
  natsUrl: string;
  databaseUrls: Record<ContextName, string>;
  /** The HS256 secret; undefined with a JWKS, and in processes that check no keys. */
  jwtSecret: string | undefined;
  /** True when anything runs embedded: a development setup. */
  development: boolean;
  /** Stops the embedded services (the last step of a shutdown). */
  stop(): Promise<void>;
}

/**
 * Resolves NATS, both databases and the signing secret. With nothing configured it starts an
 * embedded PostgreSQL and a `nats-server` child (checking first that nats-server is installed),
 * and keeps a development secret in the data directory. Both run in their own session, so a
 * Ctrl-C reaches only the gateway, which stops them last through {@link Infrastructure.stop}.
 */
export async function resolveInfrastructure(
  config: Config,
  log: Log,
  opts: {
    /** Whether this process checks API keys (the gateway): only then is a secret required. */
    verifiesKeys: boolean;
  },
): Promise<Infrastructure> {
  const development = config.embedded.nats || config.embedded.postgres;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  const databaseUrls = { ...config.databaseUrls } as Record<ContextName, string | undefined>;
  let natsUrl = config.natsUrl;
  const dir = dataDir(config);
  // Before anything starts: another gateway on this data directory, a missing nats-server or
  // a taken port should not cost a PostgreSQL start and stop, nor be reported as something else.
  if (config.embedded.postgres) await assertDataDirFree(path.join(dir, "postgres"));
  if (config.embedded.nats) {
    assertNatsServerInstalled();
    await assertNatsPortFree(config.embedded.natsPort, "EMBEDDED_NATS_PORT");
  }
  const jwtSecret = opts.verifiesKeys ? await signingSecret(config, { create: true }) : undefined;
  try {
    if (config.embedded.postgres) {
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(dir, "postgres"),
        port: config.embedded.postgresPort,
        log,
      });
      stops.push(pg.stop);
      for (const ctx of CONTEXTS) databaseUrls[ctx] = withDatabase(pg.baseUrl, `${ctx}_db`);
    }
    if (config.embedded.nats) {
      const nats = await startNatsServer({
        port: config.embedded.natsPort,
        storeDir: path.join(dir, "nats"),
        log,
        portVariable: "EMBEDDED_NATS_PORT",
      });
      stops.push(nats.stop);
      natsUrl = nats.url;
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    natsUrl: natsUrl ?? "",
    databaseUrls: { sea: databaseUrls.sea ?? "", vibespro: databaseUrls.vibespro ?? "" },
    jwtSecret,
    development,
    stop,
  };
}
