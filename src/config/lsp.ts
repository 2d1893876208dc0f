import { z } from "zod";
import { logLevel, optionalUrl } from "./builders.js";
import { setting } from "./settings.js";

const required = "is required (a key from `sea-gateway keys create`)";

/** The gateway's base URL as a client names it: without a trailing `/` or `/v1`. */
export const gatewayBaseUrl = (v: string | undefined) =>
  (v ?? "http://127.0.0.1:8080").replace(/\/+$/, "").replace(/\/v1$/, "");

/** Settings of the language server (`sea-gateway lsp`), a client of the gateway's HTTP API. */
export const lspSettings = {
  /** The gateway's base URL, without `/v1`. */
  gatewayUrl: setting("SEA_GATEWAY_URL", optionalUrl(["http://", "https://"]), gatewayBaseUrl),
  apiKey: setting("SEA_API_KEY", z.string({ error: required }).trim().min(1, required)),
  /** Language ids whose documents are validated on open and save. */
  validateLanguages: setting(
    "SEA_LSP_VALIDATE_LANGUAGES",
    z.string().default("markdown,yaml"),
    (text) =>
      Object.freeze(
        text
          .split(",")
          .map((l) => l.trim())
          .filter(Boolean),
      ),
  ),
  /** The action that validates them (its diagnostics are published). */
  validateAction: setting("SEA_LSP_VALIDATE_ACTION", z.string().min(1).default("validate_spec")),
  logLevel: setting("LOG_LEVEL", logLevel()),
} as const;
