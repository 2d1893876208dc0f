import pg from "pg";
import { CONTEXTS } from "../contracts/index.js";
import { connectNats } from "../adapters/nats/connection.js";
import type { Config } from "../src/config.js";
import type { Log } from "../src/log.js";
import { StartupError } from "../src/startup-error.js";
import { redactUrl } from "./failure-message.js";
import type { Infrastructure } from "./infrastructure.js";

const PROBE_TIMEOUT_MS = 5_000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  p.catch(() => undefined); // a late failure after the timeout is not news
  return Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(
        () =>
          reject(new StartupError(`${what} did not answer within ${PROBE_TIMEOUT_MS / 1000} s`)),
        PROBE_TIMEOUT_MS,
      ).unref(),
    ),
  ]);
}

/** `NATS_URL=nats://…` (redacted), or the embedded server's address. */
function natsName(config: Config, url: string): string {
  // A list of seeds is shown as a list, each redacted.
  const shown = url
    .split(",")
    .map((seed) => redactUrl(seed.trim(), { userIsSecret: true }))
    .join(",");
  return config.embedded.nats ? `embedded nats-server (${shown})` : `NATS_URL=${shown}`;
}

/** Connects once to NATS and checks JetStream, naming the variable to fix on failure. */
export async function checkNats(config: Config, url: string, log: Log): Promise<void> {
  const name = natsName(config, url);
  let nc;
  try {
    nc = await withTimeout(
      connectNats(url, "sea-gateway-preflight", log, { credsFile: config.natsCredsFile }),
      name,
    );
  } catch (err) {
    if (err instanceof StartupError) throw err;
    const code = (err as { code?: string }).code;
    const why =
      code === "CONNECTION_REFUSED"
        ? "refused the connection: is nats-server running there?"
        : code === "TIMEOUT"
          ? "did not answer (timeout)"
          : code === "AUTHORIZATION_VIOLATION" || code === "AUTHENTICATION_EXPIRED"
            ? "refused the credentials: check the user and password or token in the URL, or NATS_CREDS_FILE"
            : code === "ENOENT" || code === "EACCES"
              ? `cannot read NATS_CREDS_FILE=${config.natsCredsFile}`
              : `cannot connect: ${(err as Error).message}`;
    throw new StartupError(`${name} ${why}`, err);
  }
  try {
    await withTimeout(
      nc.jetstreamManager().then((jsm) => jsm.getAccountInfo()),
      `${name} (JetStream)`,
    );
  } catch (err) {
    if (err instanceof StartupError) throw err;
    throw new StartupError(
      `${name} has no JetStream: start nats-server with -js (${(err as Error).message})`,
      err,
    );
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/**
 * Connects once to each context database, naming the variable to fix on failure. A missing
 * database is fine when `migrate` is about to create it.
 */
export async function checkDatabases(
  config: Config,
  urls: Infrastructure["databaseUrls"],
  opts: { createsDatabases: boolean },
): Promise<void> {
  for (const ctx of CONTEXTS) {
    const url = urls[ctx];
    const shown = redactUrl(url);
    const name = config.embedded.postgres
      ? `embedded PostgreSQL (${shown})`
      : `${ctx.toUpperCase()}_DATABASE_URL=${shown}`;
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: PROBE_TIMEOUT_MS,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.query("SELECT 1");
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "3D000" && opts.createsDatabases) continue;
      const message = (err as Error).message;
      const why =
        code === "ECONNREFUSED"
          ? "refused the connection: is PostgreSQL running there?"
          : code === "ENOTFOUND" || code === "EAI_AGAIN"
            ? "names a host that does not resolve"
            : code === "3D000"
              ? `names a database that does not exist (${message}): run \`sea-gateway migrate\` first`
              : code === "28P01"
                ? "refused the password (28P01): check the user and password in the URL"
                : /timeout/i.test(message)
                  ? "did not answer (timeout)"
                  : `cannot connect: ${message || code || "unknown error"}`;
      throw new StartupError(`${name} ${why}`, err);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
