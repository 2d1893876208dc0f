#!/usr/bin/env node
import { parseArgs } from "node:util";
import { pino } from "pino";
import { CONTEXTS, isSubjectToken, type ContextName } from "../contracts/index.js";
import { mintKey, parseDuration } from "../adapters/auth/jwt-verifier.js";
import { ConfigError, loadConfig, loadLspConfig, type Config } from "../src/config.js";
import type { Log } from "../src/log.js";
import { loadCatalog } from "./catalog-file.js";
import { checkCatalogHandlers, contextHandlers } from "./handlers.js";
import { resolveInfrastructure, type Infrastructure } from "./infrastructure.js";
import { Runtime } from "./runtime.js";

const USAGE = `usage: sea-gateway <command>

  up                         gateway + relay + one worker per context, in one process
  gateway                    the HTTP gateway only
  relay                      the outbox relays of both contexts
  worker --context <ctx>     one worker for sea or vibespro
  migrate                    create/migrate both databases; provision streams and consumers
  keys create --tenant <id> [--ttl <dur>] [--models a,b] [--rpm N] [--max-streams N]
                             print an API key (default ttl 30d)
  lsp                        a language server on stdio for editors (see lsp --help)

With none of NATS_URL / SEA_DATABASE_URL / VIBESPRO_DATABASE_URL set, an embedded PostgreSQL
and a nats-server child process are started (data under DATA_DIR, default .data).`;

type Role = "up" | "gateway" | "relay" | "worker";

function out(line: string): void {
  process.stdout.write(line + "\n");
}

async function keysCreate(config: Config, log: Log, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: "string" },
      ttl: { type: "string", default: "30d" },
      models: { type: "string" },
      rpm: { type: "string" },
      "max-streams": { type: "string" },
    },
  });
  if (!values.tenant) throw new UsageError("keys create needs --tenant <id>");
  if (!isSubjectToken(values.tenant)) {
    throw new UsageError("--tenant must be 1-64 of letters, digits, '_' or '-'");
  }
  const positive = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
    return n;
  };
  const infra = await resolveInfrastructure(config, log, { start: false });
  if (!infra.jwtSecret) {
    throw new UsageError(
      "keys create signs with GATEWAY_JWT_SECRET; with a JWKS, your issuer mints keys",
    );
  }
  let ttlSecs: number;
  try {
    ttlSecs = parseDuration(values.ttl ?? "30d");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const models = values.models
    ?.split(",")
    .map((m) => m.trim())
    .filter(Boolean);
  out(
    await mintKey(infra.jwtSecret, {
      tenant: values.tenant,
      ttlSecs,
      models,
      rpm: positive("rpm", values.rpm),
      maxStreams: positive("max-streams", values["max-streams"]),
      issuer: config.auth.issuer,
      audience: config.auth.audience,
    }),
  );
}

class UsageError extends Error {}

/** Runs a long-lived role until SIGINT/SIGTERM; a second signal forces the exit. */
async function serve(role: Role, config: Config, log: Log, args: string[]): Promise<void> {
  let contexts: readonly ContextName[] = CONTEXTS;
  if (role === "worker") {
    const { values } = parseArgs({ args, options: { context: { type: "string" } } });
    if (!CONTEXTS.includes(values.context as ContextName)) {
      throw new UsageError(`worker needs --context ${CONTEXTS.join("|")}`);
    }
    contexts = [values.context as ContextName];
  }
  const infra: Infrastructure = await resolveInfrastructure(config, log);
  let runtime: Runtime | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "shutting down");
    await runtime?.stop();
    await infra.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  try {
    if (role === "up" || infra.development) await Runtime.prepare(config, infra, log);
    const catalog = await loadCatalog(config);
    const registries = Object.fromEntries(contexts.map((c) => [c, contextHandlers(config, c)]));
    if (role === "up" || role === "worker") checkCatalogHandlers(catalog, registries);
    runtime = await Runtime.connect(config, infra, log, `sea-gateway-${role}`);
    if (role === "up" || role === "worker") {
      for (const ctx of contexts) await runtime.startWorker(ctx, registries[ctx]!);
    }
    if (role === "up" || role === "relay") for (const ctx of CONTEXTS) runtime.startRelay(ctx);
    if (role === "up" || role === "gateway") {
      await runtime.startGateway(catalog);
      const url = `http://${config.host}:${config.port}`;
      log.info({ url, role }, "gateway listening");
      if (infra.development && infra.jwtSecret) {
        const key = await mintKey(infra.jwtSecret, {
          tenant: "dev",
          ttlSecs: parseDuration("30d"),
          issuer: config.auth.issuer,
          audience: config.auth.audience,
        });
        out(`\nSEA gateway (development mode) at ${url}/v1`);
        out(`Development API key (tenant "dev", 30 days):\n  export SEA_API_KEY=${key}\n`);
      }
    }
  } catch (err) {
    await runtime?.stop().catch(() => undefined);
    await infra.stop();
    throw err;
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    out(USAGE);
    return;
  }
  if (command === "lsp") {
    // Loaded for this command only: the other commands never need the LSP library.
    const { LSP_USAGE, runLanguageServer } = await import("./lsp.js");
    if (rest.includes("--help") || rest.includes("-h")) return out(LSP_USAGE);
    // Only the language server's own settings: the gateway's do not concern it.
    return runLanguageServer(loadLspConfig());
  }
  const config = loadConfig();
  const log: Log = pino({
    level: command === "keys" ? "warn" : config.logLevel,
    base: { service: "sea-gateway" },
  });
  switch (command) {
    case "up":
    case "gateway":
    case "relay":
    case "worker":
      return serve(command, config, log, rest);
    case "migrate": {
      const infra = await resolveInfrastructure(config, log);
      try {
        await Runtime.prepare(config, infra, log);
      } finally {
        await infra.stop();
      }
      log.info("migrations and streams are up to date");
      return;
    }
    case "keys":
      if (rest[0] !== "create") throw new UsageError("keys: only 'keys create' exists");
      return keysCreate(config, log, rest.slice(1));
    default:
      throw new UsageError(command ? `unknown command '${command}'` : "no command given");
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`sea-gateway: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
