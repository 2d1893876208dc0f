import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import * as acp from "@agentclientprotocol/sdk";
import { pino } from "pino";
import { HttpAgentGateway } from "../adapters/gateway/http-agent-gateway.js";
import { createAcpAgent } from "../src/acp/acp-agent.js";
import type { AgentGateway } from "../src/acp/agent-gateway.js";
import { readLogin, writeLogin } from "../src/acp/credentials.js";
import { gatewayBase, type AcpConfig } from "../src/config.js";

export const ACP_USAGE = `usage: sea-gateway acp [--login]

An Agent Client Protocol (ACP) agent on stdio, for editors' agent panels (Zed, JetBrains,
Neovim plugins): each prompt is a durable, resumable, cancellable gateway run; /explain,
/refactor, /generate_tests, /validate_spec (and the catalog's actions) run on the files you
mention, their edits offered for review; sessions live on the gateway (session/load, list).

  --login   ask for the gateway URL and an API key on the terminal, check them, and keep them
            in $XDG_CONFIG_HOME/sea-gateway/acp-login.json (mode 0600) for later runs

environment (wins over a stored login):
  SEA_GATEWAY_URL   the gateway (default http://127.0.0.1:8080; a trailing /v1 is fine)
  SEA_API_KEY       the key (from \`sea-gateway keys create\`)
  SEA_ACP_MODEL     the chat model prompts run on (default sea)
  LOG_LEVEL         logs go to stderr (default info)

Zed: "agent_servers" in settings.json (examples/zed-settings.json).`;

const DEFAULT_URL = "http://127.0.0.1:8080";

/** This package's version: the nearest package.json above this file (source or dist). */
export function packageVersion(): string {
  for (let dir = new URL(".", import.meta.url); ; dir = new URL("..", dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "sea-gateway" && pkg.version) return pkg.version;
    } catch {
      // not here: look further up
    }
    if (fileURLToPath(dir) === "/") return "0.0.0";
  }
}

/** The URL and key in force: the environment's, else the stored login's. */
function credentials(config: AcpConfig): { url: string; key: string | undefined } {
  const stored = readLogin(config.credentialsFile);
  return {
    url: config.gatewayUrl ?? (stored ? gatewayBase(stored.gatewayUrl) : DEFAULT_URL),
    key: config.apiKey ?? stored?.apiKey,
  };
}

/** Runs the agent on stdin/stdout until stdin ends. Logs go to stderr. */
export async function runAcpAgent(config: AcpConfig): Promise<void> {
  // stdout carries the protocol: nothing else may be written to it.
  const log = pino(
    { level: config.logLevel, base: { service: "sea-gateway-acp" } },
    pino.destination(2),
  );
  // A stray failure must not end the process: a dead agent is a dead panel for the user.
  process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
  let creds = credentials(config);
  let gateway: AgentGateway | null = null;
  const app = createAcpAgent({
    gateway: () => {
      if (!creds.key) return null;
      gateway ??= new HttpAgentGateway(creds.url, creds.key);
      return gateway;
    },
    reloadCredentials: () => {
      creds = credentials(config);
      gateway = null;
    },
    gatewayUrl: () => creds.url,
    model: config.model,
    version: packageVersion(),
    log,
  });
  const connection = app.connect(
    acp.ndJsonStream(
      Writable.toWeb(process.stdout),
      Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>,
    ),
  );
  log.info({ gateway: creds.url, key: creds.key ? "set" : "missing" }, "ACP agent started");
  await connection.closed;
  log.info("stdin closed: exiting");
  // Open keep-alive sockets or a run being cancelled must not hold the editor's process.
  process.exit(0);
}

/** `--login`: asks for URL and key on the terminal, checks them, stores them (0600). */
export async function runLogin(config: AcpConfig): Promise<void> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (question: string) => {
    process.stdout.write(question);
    const next = await lines.next();
    return next.done ? "" : String(next.value).trim();
  };
  const current = credentials(config).url;
  const url = gatewayBase((await ask(`SEA gateway URL [${current}]: `)) || current);
  const key = await ask("SEA API key (from `sea-gateway keys create`): ");
  rl.close();
  if (!/^https?:\/\//.test(url)) throw new LoginError(`'${url}' is not an http(s) URL`);
  if (!key) throw new LoginError("no key given");
  const actions = await new HttpAgentGateway(url, key).listActions().catch((err: Error) => {
    throw new LoginError(`the gateway at ${url} did not accept the key: ${err.message}`);
  });
  await writeLogin(config.credentialsFile, { gatewayUrl: url, apiKey: key });
  process.stdout.write(
    `Logged in to ${url} (${actions.length} editor actions). Saved to ${config.credentialsFile}\n`,
  );
}

/** A login that did not work: one line, exit status 1. */
export class LoginError extends Error {
  override name = "LoginError";
}
