import { spawn, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import type { Log } from "../../src/log.js";

/** A `nats-server -js` child process. */
export interface NatsServerProcess {
  url: string;
  stop(): Promise<void>;
}

/** Raised when `nats-server` is not installed. */
export class NatsServerMissingError extends Error {
  constructor() {
    super(
      "nats-server not found on PATH: install it (Debian/Ubuntu: apt-get install nats-server; " +
        "others: https://github.com/nats-io/nats-server/releases) or set NATS_URL",
    );
    this.name = "NatsServerMissingError";
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

/** Starts `nats-server` with JetStream on 127.0.0.1:`port`, storing under `storeDir`. */
export async function startNatsServer(opts: {
  port: number;
  storeDir: string;
  log: Log;
  binary?: string;
  /** Extra arguments (e.g. `-c <config>`) and environment (variables the config names). */
  extraArgs?: string[];
  env?: Record<string, string>;
}): Promise<NatsServerProcess> {
  await mkdir(opts.storeDir, { recursive: true });
  const child: ChildProcess = spawn(
    opts.binary ?? "nats-server",
    [
      ...(opts.extraArgs ?? []),
      ...["-a", "127.0.0.1", "-p", String(opts.port), "-js", "-sd", opts.storeDir],
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...opts.env } },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "ENOENT" ? new NatsServerMissingError() : err),
    );
    child.once("exit", (code) =>
      reject(new Error(`nats-server exited (${code}): ${stderr.trim()}`)),
    );
  });
  exited.catch(() => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ready = await Promise.race([canConnect(opts.port), exited]);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nats-server did not start on port ${opts.port}: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  opts.log.info({ port: opts.port, store: opts.storeDir }, "embedded nats-server started");
  return {
    url: `nats://127.0.0.1:${opts.port}`,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
