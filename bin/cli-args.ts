import { parseArgs, type ParseArgsConfig } from "node:util";

const EMBEDDED_NOTE = `With none of NATS_URL / SEA_DATABASE_URL / VIBESPRO_DATABASE_URL set, an embedded PostgreSQL
and a nats-server child process are started (data under DATA_DIR, default .data in the project
folder). Configuration is read from the environment (see README.md, "Configuration").`;

/** A subcommand: its usage text and the options it accepts (`--help` is always accepted). */
export interface CommandSpec {
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
}

/** Every subcommand's usage and options, in the order the overall usage lists them. */
export const COMMANDS = {
  up: {
    usage: `usage: sea-gateway up

  Runs the gateway, the outbox relays and one worker per context in one process (what
  \`npm start\` runs). Migrates the databases and provisions streams first.

${EMBEDDED_NOTE}`,
    options: {},
  },
  gateway: {
    usage: `usage: sea-gateway gateway

  Runs the HTTP gateway only (PORT, HOST). Needs migrated databases (\`sea-gateway migrate\`).`,
    options: {},
  },
  relay: {
    usage: `usage: sea-gateway relay

  Runs the outbox relays of both contexts.`,
    options: {},
  },
  worker: {
    usage: `usage: sea-gateway worker --context <sea|vibespro>

  Runs one worker for a context: pulls its commands and runs their handlers.`,
    options: { context: { type: "string" } },
  },
  migrate: {
    usage: `usage: sea-gateway migrate

  Creates and migrates both databases, provisions the least-privilege roles (passwords from
  SEA_APP_PASSWORD, VIBESPRO_APP_PASSWORD, SEA_GATEWAY_PASSWORD when set), the streams and the
  worker consumers, then exits.`,
    options: {},
  },
  "keys create": {
    usage: `usage: sea-gateway keys create --tenant <id> [--ttl <dur>] [--models a,b] [--rpm N] [--max-streams N] [--admin]

  Prints an API key signed with GATEWAY_JWT_SECRET, or with the development secret of the
  embedded mode (.data/dev-jwt-secret in the project folder, or under DATA_DIR).
  --ttl 30d by default (s, m, h, d); --models limits the key to those model ids; --rpm and
  --max-streams set its per-key limits; --admin lets it open the status page (GET /status).`,
    options: {
      tenant: { type: "string" },
      ttl: { type: "string", default: "30d" },
      models: { type: "string" },
      rpm: { type: "string" },
      "max-streams": { type: "string" },
      admin: { type: "boolean" },
    },
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

/** The overall usage: one line per command. */
export const USAGE = `usage: sea-gateway <command> [options]

  up                         gateway + relay + one worker per context, in one process
  gateway                    the HTTP gateway only
  relay                      the outbox relays of both contexts
  worker --context <ctx>     one worker for sea or vibespro
  migrate                    create/migrate both databases; provision roles, streams and consumers
  keys create --tenant <id> [--ttl <dur>] [--models a,b] [--rpm N] [--max-streams N] [--admin]
                             print an API key (default ttl 30d)
  lsp                        a language server on stdio for editors (SEA_GATEWAY_URL, SEA_API_KEY)
  acp [--login]              an ACP agent on stdio for editors' agent panels (Zed)

Run \`sea-gateway <command> --help\` for one command's details.

${EMBEDDED_NOTE}`;

/** Bad command-line input: printed as one line followed by the usage, exit status 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string = USAGE,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/** What a subcommand was given: `help`, or its option values. */
export type ParsedCommand = { help: true } | { help: false; values: Record<string, unknown> };

/** Node's parse errors, as one plain line. */
function plainParseError(err: { code?: string; message: string }): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? "";
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${quoted}'`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `option '${quoted.replace(/ <value>$/, "")}' needs a value`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument '${quoted}'`;
    default:
      return err.message.split(".")[0] ?? err.message;
  }
}

/** Parses a subcommand's arguments strictly; bad input becomes a {@link UsageError}. */
export function parseCommand(name: CommandName, args: string[]): ParsedCommand {
  const spec: CommandSpec = COMMANDS[name];
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args,
      options: { ...spec.options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code?.startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError(`${name}: ${plainParseError(e)}`, spec.usage);
    }
    throw err;
  }
  if (values.help) return { help: true };
  return { help: false, values };
}
