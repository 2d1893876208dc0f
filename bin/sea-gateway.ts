#!/usr/bin/env node
import { pino } from "pino";
import { CONTEXTS, isSubjectToken, type ContextName } from "../contracts/index.js";
import { mintKey, parseDuration } from "../adapters/auth/jwt-verifier.js";
import {
  ConfigError,
  loadAcpConfig,
  loadConfig,
  loadLspConfig,
  type Config,
} from "../src/config.js";
import type { Log } from "../src/log.js";
import { StartupError } from "../src/startup-error.js";
import { COMMANDS, parseCommand, USAGE, UsageError, type CommandName } from "./cli-args.js";
import { signingSecret } from "./data-dir.js";
import { failureDetail, failureLine } from "./failure-message.js";
import type { Infrastructure } from "./infrastructure.js";
import type { Observability } from "./observability.js";
import { ROLES, type Role } from "./roles.js";
import type { Runtime } from "./runtime.js";

/**
 * What only the long-running roles and `migrate` need (fastify, NATS, pg), loaded on demand so
 * that --help, `keys create` and argument errors answer at once.
 */
async function servingModules() {
  const [runtime, infrastructure, preflight, catalogFile, handlers, observability] =
    await Promise.all([
      import("./runtime.js"),
      import("./infrastructure.js"),
      import("./preflight.js"),
      import("./catalog-file.js"),
      import("./handlers.js"),
      import("./observability.js"),
    ]);
  return {
    ...runtime,
    ...infrastructure,
    ...preflight,
    ...catalogFile,
    ...handlers,
    ...observability,
  };
}

function out(line: string): void {
  process.stdout.write(line + "\n");
}

/** Set once the configuration is read: whether failures print their stacks. */
let debugOutput = false;

async function keysCreate(config: Config, values: Record<string, unknown>): Promise<void> {
  const usage = COMMANDS["keys create"].usage;
  const tenant = values.tenant as string | undefined;
  if (!tenant) throw new UsageError("keys create needs --tenant <id>", usage);
  if (!isSubjectToken(tenant)) {
    throw new UsageError("--tenant must be 1-64 of letters, digits, '_' or '-'", usage);
  }
  const positive = (name: string) => {
    const v = values[name] as string | undefined;
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) {
      throw new UsageError(`--${name} must be a positive integer`, usage);
    }
    return n;
  };
  let ttlSecs: number;
  try {
    ttlSecs = parseDuration((values.ttl as string | undefined) ?? "30d");
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  const rpm = positive("rpm");
  const maxStreams = positive("max-streams");
  // Never creates a secret: a key signed with a fresh one would be refused by the gateway.
  const secret = await signingSecret(config, { create: false });
  if (!secret) {
    throw new UsageError(
      "keys create signs with GATEWAY_JWT_SECRET; with a JWKS, your issuer mints keys",
      usage,
    );
  }
  const models = (values.models as string | undefined)
    ?.split(",")
    .map((m) => m.trim())
    .filter(Boolean);
  out(
    await mintKey(secret, {
      tenant,
      ttlSecs,
      models,
      rpm,
      maxStreams,
      admin: values.admin === true,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
    }),
  );
}

/** A listen failure as one line naming PORT / HOST; other errors pass through. */
function listenFailure(err: unknown, config: Config): unknown {
  const where = `PORT=${config.port} on HOST=${config.host}`;
  switch ((err as { code?: string }).code) {
    case "EADDRINUSE":
      return new StartupError(
        `${where} is already in use: stop what listens there, or set PORT`,
        err,
      );
    case "EACCES":
      return new StartupError(`${where} needs privileges: choose a PORT above 1023`, err);
    case "EADDRNOTAVAIL":
      return new StartupError(`HOST=${config.host} is not an address of this machine`, err);
    default:
      return err;
  }
}

/**
 * Runs a long-lived role until SIGINT/SIGTERM (both mean the same staged shutdown; the embedded
 * services, in their own session, are stopped last); a second signal forces the exit.
 */
async function serve(role: Role, config: Config, log: Log, values: Record<string, unknown>) {
  const {
    Runtime,
    resolveInfrastructure,
    checkNats,
    checkDatabases,
    loadCatalog,
    checkCatalogHandlers,
    contextHandlers,
    configureTelemetry,
    observe,
  } = await servingModules();
  const parts = ROLES[role];
  let contexts: readonly ContextName[] = CONTEXTS;
  if (parts.oneContext) {
    if (!CONTEXTS.includes(values.context as ContextName)) {
      throw new UsageError(`worker needs --context ${CONTEXTS.join("|")}`, COMMANDS.worker.usage);
    }
    contexts = [values.context as ContextName];
  }
  // Configuration files first: a bad catalog should not cost starting PostgreSQL and NATS.
  const catalog = await loadCatalog(config);
  const registries = Object.fromEntries(contexts.map((c) => [c, contextHandlers(config, c)]));
  if (parts.worker) checkCatalogHandlers(catalog, registries);
  const infra: Infrastructure = await resolveInfrastructure(config, log, {
    verifiesKeys: parts.gateway,
  });
  await configureTelemetry(config, role);
  let runtime: Runtime | null = null;
  let observability: Observability | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "shutting down");
    try {
      // Readiness turns false at once; the health listener answers until everything stopped.
      await runtime?.stop(config.shutdownGraceMs);
      await observability?.close();
    } finally {
      await infra.stop();
    }
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  try {
    const prepares = parts.prepares || infra.development;
    await checkNats(config, infra.natsUrl, log);
    await checkDatabases(config, infra.databaseUrls, { createsDatabases: prepares });
    if (prepares) await Runtime.prepare(config, infra, log);
    runtime = await Runtime.connect(config, infra, log, `sea-gateway-${role}`);
    observability = observe(runtime, { role, workerContexts: contexts, config, log });
    if (parts.worker) {
      for (const ctx of contexts) await runtime.startWorker(ctx, registries[ctx]!);
    }
    if (parts.relay) for (const ctx of CONTEXTS) runtime.startRelay(ctx);
    if (parts.gateway) {
      await runtime
        .startGateway(catalog, { status: observability.status })
        .catch((err: unknown) => {
          throw listenFailure(err, config);
        });
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
    await observability.start();
  } catch (err) {
    await runtime?.stop().catch(() => undefined);
    await observability?.close().catch(() => undefined);
    await infra.stop();
    throw err;
  }
}

/** The subcommand named by the first arguments, and the arguments left for it. */
function commandOf(argv: string[]): { name: CommandName; args: string[] } {
  const [command, ...rest] = argv;
  if (command === "keys") {
    if (rest[0] === "create") return { name: "keys create", args: rest.slice(1) };
    if (rest[0] === "--help" || rest[0] === "-h") return { name: "keys create", args: ["--help"] };
    throw new UsageError("keys: only 'keys create' exists", COMMANDS["keys create"].usage);
  }
  if (command && command !== "keys create" && Object.hasOwn(COMMANDS, command)) {
    return { name: command as CommandName, args: rest };
  }
  throw new UsageError(command ? `unknown command '${command}'` : "no command given");
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === "help" || argv[0] === "--help" || argv[0] === "-h") {
    out(USAGE);
    return;
  }
  if (argv[0] === "lsp") {
    // Loaded for this command only: the other commands never need the LSP library.
    const { LSP_USAGE, runLanguageServer } = await import("./lsp.js");
    const rest = argv.slice(1);
    if (rest.includes("--help") || rest.includes("-h")) return out(LSP_USAGE);
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`, LSP_USAGE);
    // Only the language server's own settings: the gateway's do not concern it.
    return runLanguageServer(loadLspConfig());
  }
  if (argv[0] === "acp") {
    // Loaded for this command only, like the language server.
    const { ACP_USAGE, runAcpAgent, runLogin } = await import("./acp.js");
    const rest = argv.slice(1);
    if (rest.includes("--help") || rest.includes("-h")) return out(ACP_USAGE);
    const unknown = rest.find((a) => a !== "--login");
    if (unknown) throw new UsageError(`unexpected argument '${unknown}'`, ACP_USAGE);
    const config = loadAcpConfig();
    return rest.includes("--login") ? runLogin(config) : runAcpAgent(config);
  }
  const { name, args } = commandOf(argv);
  // Arguments before configuration: --help works whatever the environment holds.
  const parsed = parseCommand(name, args);
  if (parsed.help) {
    out(COMMANDS[name].usage);
    return;
  }
  const config = loadConfig();
  debugOutput = config.logLevel === "debug" || config.logLevel === "trace";
  const log: Log = pino({
    level: name === "keys create" ? "warn" : config.logLevel,
    base: { service: "sea-gateway" },
  });
  switch (name) {
    case "up":
    case "gateway":
    case "relay":
    case "worker":
      return serve(name, config, log, parsed.values);
    case "migrate": {
      const { Runtime, resolveInfrastructure, checkNats, checkDatabases } = await servingModules();
      const infra = await resolveInfrastructure(config, log, { verifiesKeys: false });
      try {
        await checkNats(config, infra.natsUrl, log);
        await checkDatabases(config, infra.databaseUrls, { createsDatabases: true });
        await Runtime.prepare(config, infra, log);
      } finally {
        await infra.stop();
      }
      log.info("migrations and streams are up to date");
      return;
    }
    case "keys create":
      return keysCreate(config, parsed.values);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`sea-gateway: ${err.message}\n\n${err.usage}\n`);
    process.exit(2);
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  // One line naming the cause; the stacks only when asked for (LOG_LEVEL=debug).
  process.stderr.write(`sea-gateway: ${failureLine(err)}\n`);
  if (debugOutput) process.stderr.write(`${failureDetail(err)}\n`);
  process.exit(1);
});
