import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

/** Runs the CLI from source (no build step) and resolves with its output. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, env);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

/**
 * Starts the CLI from source as a child process, with only `env` on top of PATH/HOME; `stdin`
 * piped for commands that read it (the language server).
 */
export function spawnCli(
  args: string[],
  env: Record<string, string>,
  opts: { stdin?: boolean } = {},
): ChildProcess {
  const base = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" };
  return spawn(process.execPath, ["--import", "tsx", "bin/sea-gateway.ts", ...args], {
    env: { ...base, ...env },
    stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"],
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
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const [code] = (await exited) as [number | null];
  clearTimeout(timer);
  return code;
}
