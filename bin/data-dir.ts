import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, type Config } from "../src/config.js";
import { StartupError } from "../src/startup-error.js";

/**
 * The folder of the sea-gateway package this code belongs to (the one holding its
 * package.json): `npm start` runs there, whichever folder it was typed in.
 */
export function projectRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return from;
  }
}

/**
 * The data directory of the embedded services and the development secret: `DATA_DIR` (relative
 * to the working directory), else `.data` in the project folder, so that `npm start` and a
 * `sea-gateway keys create` typed in any folder find the same secret.
 */
export function dataDir(config: Config): string {
  return config.dataDir ? path.resolve(config.dataDir) : path.join(projectRoot(), ".data");
}

const SECRET_FILE = "dev-jwt-secret";

/** Reads the development signing secret, creating it on first use (`create`) or refusing. */
export async function devSecret(config: Config, opts: { create: boolean }): Promise<string> {
  const file = path.join(dataDir(config), SECRET_FILE);
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  if (!opts.create) {
    throw new StartupError(
      `no development secret at ${file}: start the gateway once (npm start creates it there), ` +
        "or set DATA_DIR to the gateway's data directory, or set GATEWAY_JWT_SECRET",
    );
  }
  await mkdir(path.dirname(file), { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  await writeFile(file, secret + "\n", { mode: 0o600 });
  return secret;
}

/**
 * The HS256 signing secret: `GATEWAY_JWT_SECRET`, else (embedded mode) the development secret in
 * the data directory, created on first use when `create`; undefined with a JWKS.
 */
export async function signingSecret(
  config: Config,
  opts: { create: boolean },
): Promise<string | undefined> {
  if (config.jwtSecret !== undefined || config.auth.jwksUrl) return config.jwtSecret;
  if (!config.embedded.nats && !config.embedded.postgres) {
    throw new ConfigError([
      "GATEWAY_JWT_SECRET (or GATEWAY_JWKS_URL): required when NATS_URL and the database URLs are set",
    ]);
  }
  return devSecret(config, opts);
}
