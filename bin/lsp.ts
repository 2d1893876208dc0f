import { pino } from "pino";
import {
  createConnection,
  ProposedFeatures,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-languageserver/node";
import { HttpActionGateway } from "../adapters/gateway/http-action-gateway.js";
import type { LspConfig } from "../src/config.js";
import { serveLanguageServer } from "../src/lsp/language-server.js";

export const LSP_USAGE = `usage: sea-gateway lsp

A language server on stdio (LSP) that runs the gateway's editor actions: code actions on the
selection (or the document) for each action the key may run, edits applied through
workspace/applyEdit with work-done progress, validate_spec diagnostics on open and save.

environment:
  SEA_GATEWAY_URL              the gateway (default http://127.0.0.1:8080; a trailing /v1 is fine)
  SEA_API_KEY                  the key (required; from \`sea-gateway keys create\`)
  SEA_LSP_VALIDATE_LANGUAGES   language ids validated on open/save (default markdown,yaml)
  SEA_LSP_VALIDATE_ACTION      the validating action (default validate_spec)
  LOG_LEVEL                    logs go to stderr (default info)

initializationOptions (override the environment): {"validateLanguages": [...],
"validateAction": "..."}. Editor setups: examples/neovim-sea-lsp.lua (Neovim 0.11+),
examples/neovim-0.7-sea-lsp.lua (Neovim 0.7 to 0.10), examples/helix-languages.toml.`;

/** Runs the language server on stdin/stdout until the client exits it. Logs go to stderr. */
export function runLanguageServer(config: LspConfig): void {
  // stdout carries the protocol: nothing else may be written to it.
  const log = pino(
    { level: config.logLevel, base: { service: "sea-gateway-lsp" } },
    pino.destination(2),
  );
  const connection = createConnection(
    ProposedFeatures.all,
    new StreamMessageReader(process.stdin),
    new StreamMessageWriter(process.stdout),
  );
  serveLanguageServer(
    connection,
    new HttpActionGateway(config.gatewayUrl, config.apiKey),
    { languages: config.validateLanguages, action: config.validateAction },
    log,
  );
  connection.listen();
  log.info({ gateway: config.gatewayUrl }, "language server started");
}
