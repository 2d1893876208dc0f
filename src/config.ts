import { commonSettings } from "./config/common.js";
import { gatewaySettings } from "./config/gateway.js";
import { acpSettings } from "./config/acp.js";
import { gatewayBaseUrl, lspSettings } from "./config/lsp.js";
import { relaySettings } from "./config/relay.js";
import { defaultsOf, readSettings, settingsOf, type Settings } from "./config/settings.js";
import { workerSettings } from "./config/worker.js";

/**
 * The one module that reads the environment. Each setting is declared once, in the tree of the
 * role that reads it (src/config/: common, gateway, worker, relay, lsp, acp), with its default and
 * its bounds; the configuration's type is inferred from those trees. Everything is validated at
 * once; a bad value fails boot with every problem listed, and the result is frozen.
 */

/** The trees a server process reads (`up` runs every role, so every process reads them all). */
const SERVER_TREES = [commonSettings, gatewaySettings, workerSettings, relaySettings] as const;

/** Every environment variable the gateway reads (README.md's configuration table lists them). */
export const ENV_VARIABLES: readonly string[] = Object.freeze(
  settingsOf(...SERVER_TREES).map((s) => s.env),
);

/** The default of each variable that has one, as the schema applies it. */
export function envDefaults(): Record<string, unknown> {
  return defaultsOf(...SERVER_TREES);
}

/** The validated configuration of a server process. */
export type Config = Settings<typeof commonSettings> &
  Settings<typeof gatewaySettings> &
  Settings<typeof workerSettings> &
  Settings<typeof relaySettings> & {
    /** True when no external NATS or Postgres is configured: run embedded ones. */
    readonly embedded: { readonly nats: boolean; readonly postgres: boolean };
  };

/** Boot refused: every problem with the environment, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Reads and validates the configuration from `env` (the process environment by default). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const [common, gateway, worker, relay] = SERVER_TREES.map((t) =>
    readSettings(t, env, problems),
  ) as [
    Settings<typeof commonSettings>,
    Settings<typeof gatewaySettings>,
    Settings<typeof workerSettings>,
    Settings<typeof relaySettings>,
  ];
  if (problems.length === 0) {
    if (gateway.auth.jwksUrl && gateway.jwtSecret) {
      problems.push("GATEWAY_JWKS_URL and GATEWAY_JWT_SECRET: set one, not both");
    }
    if (gateway.auth.jwksUrl && (!gateway.auth.issuer || !gateway.auth.audience)) {
      problems.push("GATEWAY_JWKS_URL: also set GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE");
    }
    if ((common.databaseUrls.sea === undefined) !== (common.databaseUrls.vibespro === undefined)) {
      problems.push(
        "SEA_DATABASE_URL and VIBESPRO_DATABASE_URL: set both, or neither to use the embedded Postgres",
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...common,
    ...gateway,
    ...worker,
    ...relay,
    embedded: Object.freeze({
      ...common.embedded,
      nats: common.natsUrl === undefined,
      postgres: common.databaseUrls.sea === undefined,
    }),
  });
}

/** The language server's configuration (`sea-gateway lsp`). */
export type LspConfig = Settings<typeof lspSettings>;

/** Reads and validates the language server's configuration from `env`. */
export function loadLspConfig(env: Record<string, string | undefined> = process.env): LspConfig {
  const problems: string[] = [];
  const config = readSettings(lspSettings, env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The ACP agent's configuration (`sea-gateway acp`). */
export type AcpConfig = Omit<Settings<typeof acpSettings>, "xdgConfigHome" | "home"> & {
  /** Where `sea-gateway acp --login` keeps the URL and key (mode 0600). */
  readonly credentialsFile: string;
};

/** A gateway URL without trailing slashes or `/v1`. */
export const gatewayBase = (url: string) => gatewayBaseUrl(url);

/** Reads and validates the ACP agent's configuration from `env`. */
export function loadAcpConfig(env: Record<string, string | undefined> = process.env): AcpConfig {
  const problems: string[] = [];
  const { xdgConfigHome, home, ...config } = readSettings(acpSettings, env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const configHome = xdgConfigHome || `${home ?? "."}/.config`;
  return Object.freeze({ ...config, credentialsFile: `${configHome}/sea-gateway/acp-login.json` });
}
