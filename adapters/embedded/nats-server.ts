import { mkdir } from "node:fs/promises";
import type { Log } from "../../src/log.js";
import { StartupError } from "../../src/startup-error.js";
import { findExecutable } from "./executable.js";
import { portInUse } from "./port.js";
import { startSupervised } from "./supervised-process.js";

/** A `nats-server -js` child process. */
export interface NatsServerProcess {
  url: string;
  /** Stops the server (SIGTERM, then SIGKILL after a timeout) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Raised when `nats-server` is not installed. */
export class NatsServerMissingError extends StartupError {
  constructor() {
    super(
      "nats-server is not installed (embedded mode needs it): apt-get install nats-server, " +
        "or set NATS_URL to a NATS server with JetStream",
    );
    this.name = "NatsServerMissingError";
  }
}

/** Throws {@link NatsServerMissingError} unless `binary` (default `nats-server`) is on PATH. */
export function assertNatsServerInstalled(binary = "nats-server"): string {
  const found = binary.includes("/") ? binary : findExecutable(binary);
  if (!found) throw new NatsServerMissingError();
  return found;
}

function natsPortInUse(port: number, variable = "port"): StartupError {
  return new StartupError(
    `${variable}=${port} is already in use (another sea-gateway or nats-server?): stop it, ` +
      "choose another port, or set NATS_URL to use that server",
  );
}

/** Refuses a port something already listens on, rather than quietly using another server. */
export async function assertNatsPortFree(port: number, variable?: string): Promise<void> {
  if (await portInUse(port)) throw natsPortInUse(port, variable);
}

const READY = "Server is ready";
const START_TIMEOUT_MS = 10_000;

/**
 * Starts `nats-server` with JetStream on 127.0.0.1:`port`, storing under `storeDir`. It runs in
 * its own session (a Ctrl-C in the terminal does not reach it) and stops when this process
 * exits or dies (see supervised-process.ts). Refuses a port something else already listens on,
 * instead of quietly using whatever server is there.
 */
export async function startNatsServer(opts: {
  port: number;
  storeDir: string;
  log: Log;
  binary?: string;
  /** Extra arguments (e.g. `-c <config>`) and environment (variables the config names). */
  extraArgs?: string[];
  env?: Record<string, string>;
  /** The variable that sets the port, named in the refusal when it is taken. */
  portVariable?: string;
}): Promise<NatsServerProcess> {
  const binary = assertNatsServerInstalled(opts.binary);
  const portName = `${opts.portVariable ?? "port"}=${opts.port}`;
  const inUse = () => natsPortInUse(opts.port, opts.portVariable);
  await assertNatsPortFree(opts.port, opts.portVariable);
  await mkdir(opts.storeDir, { recursive: true });
  const proc = startSupervised({
    command: binary,
    args: [
      ...(opts.extraArgs ?? []),
      ...["-a", "127.0.0.1", "-p", String(opts.port), "-js", "-sd", opts.storeDir],
    ],
    stopSignal: "SIGTERM",
    env: { ...process.env, ...opts.env },
  });
  const outcome = await proc.readyWhen(READY, START_TIMEOUT_MS);
  if (outcome !== "ready") {
    await proc.stop(1_000);
    const stderr = proc.stderrTail();
    if (/address already in use/.test(stderr)) throw inUse();
    const fatal = /\[FTL\] (.*)/.exec(stderr)?.[1];
    throw new StartupError(
      outcome === "timeout"
        ? `embedded nats-server did not start on ${portName} within ${START_TIMEOUT_MS / 1000} s`
        : `embedded nats-server exited (${outcome}): ${fatal ?? lastLine(stderr)}`,
    );
  }
  opts.log.info({ port: opts.port, store: opts.storeDir }, "embedded nats-server started");
  return { url: `nats://127.0.0.1:${opts.port}`, stop: () => proc.stop(5_000) };
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "no output";
}
