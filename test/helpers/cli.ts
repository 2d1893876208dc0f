import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../bin/sea-gateway.ts", import.meta.url));
// Absolute, so that the CLI also runs from another working directory.
const TSX = import.meta.resolve("tsx");

/** How to start the CLI beyond its arguments and environment. */
export interface CliOptions {
  /** Working directory (default: the project folder). */
  cwd?: string;
  /**
   * A process group of its own, as a shell gives a foreground job: `process.kill(-pid, sig)`
   * then signals the whole group, as a terminal's Ctrl-C does.
   */
  ownGroup?: boolean;
  /** Pipe stdin (for commands that read it: the language server). */
  stdin?: boolean;
  /** Written to stdin, which is then closed (with `stdin`). */
  input?: string;
}

/** Runs the CLI from source (no build step) and resolves with its output. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  opts: CliOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, env, opts);
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

/** Starts the CLI from source as a child process, with only `env` on top of PATH/HOME. */
export function spawnCli(
  args: string[],
  env: Record<string, string>,
  opts: CliOptions = {},
): ChildProcess {
  const base = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" };
  return spawn(process.execPath, ["--import", TSX, CLI, ...args], {
    env: { ...base, ...env },
    stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    detached: opts.ownGroup ?? false,
  });
}

/** Waits until `url` answers 200, or the child exits (then throws with its stderr). */
export async function waitReady(url: string, child: ChildProcess, timeoutMs = 60_000) {
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`);
    try {
      const r = await fetch(url);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready after ${timeoutMs} ms: ${stderr}`);
}

/** SIGTERMs the child and resolves with its exit code. */
export async function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const [code] = (await exited) as [number | null];
  clearTimeout(timer);
  return code;
}
