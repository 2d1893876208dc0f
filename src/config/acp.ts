import { z } from "zod";
import { logLevel, optionalUrl } from "./builders.js";
import { gatewayBaseUrl } from "./lsp.js";
import { setting } from "./settings.js";

/** Settings of the ACP agent (`sea-gateway acp`), a client of the gateway's HTTP API. */
export const acpSettings = {
  /** The gateway's base URL, without `/v1`; absent: the stored login's, else the default. */
  gatewayUrl: setting("SEA_GATEWAY_URL", optionalUrl(["http://", "https://"]), (v) =>
    v === undefined ? undefined : gatewayBaseUrl(v),
  ),
  // Optional here: without a key the agent still starts and answers auth_required.
  apiKey: setting(
    "SEA_API_KEY",
    z
      .string()
      .trim()
      .optional()
      .transform((v) => (v === "" ? undefined : v)),
  ),
  /** The chat model prompts run on. */
  model: setting("SEA_ACP_MODEL", z.string().trim().min(1).default("sea")),
  /** Where the user's configuration lives (XDG), for the stored login. */
  xdgConfigHome: setting("XDG_CONFIG_HOME", z.string().optional()),
  home: setting("HOME", z.string().optional()),
  logLevel: setting("LOG_LEVEL", logLevel()),
} as const;
