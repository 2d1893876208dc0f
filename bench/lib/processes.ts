import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";

/** A child process the benchmark started, with its pid. */
export interface Proc {
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

/** Starts a TypeScript script with tsx (no build), piping its stdout. */
export function startScript(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  return wrap(
    spawn(process.execPath, ["--import", "tsx", script, ...args], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
}

/**
 * The Node flags the gateway runs with in the benchmarks: none, as `npm start` and the image run
 * it. `BENCH_NODE_FLAGS` sets others (e.g. `--max-semi-space-size=64`, the trade the README's
 * performance section measures: 0–7% less CPU per paced chunk and 2–16% per burst completion,
 * for about 90 MiB more at 10,000 idle streams).
 */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);

/**
 * Starts the compiled CLI (`npm run bench` builds first), as `npm start` runs it; `dist` names
 * another build (a baseline measured side by side with this one).
 */
export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  dist = "dist",
  nodeFlags: string[] = NODE_FLAGS,
): Proc {
  return wrap(
    spawn(process.execPath, [...nodeFlags, `${dist}/bin/sea-gateway.js`, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ["ignore", "ignore", "inherit"],
    }),
  );
}

function wrap(child: ChildProcess): Proc {
  return {
    child,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = once(child, "exit");
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** The port a script prints as `listening <port>`. */
export async function listeningPort(p: Proc): Promise<number> {
  const [line] = (await once(p.child.stdout!, "data")) as [Buffer];
  return Number(/listening (\d+)/.exec(line.toString())?.[1]);
}

/** Waits until `url` answers 200. */
export async function waitReady(url: string, p: Proc): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (p.child.exitCode !== null) throw new Error(`${url}: process exited ${p.child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

/** Resident memory of a process, MiB. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples the peak of the processes' summed RSS until stopped. */
export function peakRss(...pids: number[]): { stop(): number } {
  const now = () => pids.reduce((a, p) => a + rssMb(p), 0);
  let peak = now();
  const t = setInterval(() => (peak = Math.max(peak, now())), 100);
  return {
    stop: () => {
      clearInterval(t);
      return Math.max(peak, now());
    },
  };
}

const TICK_MS = 1000 / Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim() || 100);

/** CPU time (user + system) a process has used so far, ms (0 once it has exited). */
export function cpuMs(pid: number): number {
  return cpuWithReaped(pid)?.own ?? 0;
}

/** Pids of every process with this exact name (e.g. `postgres`, `nats-server`). */
export function pidsOf(name: string): number[] {
  try {
    return execFileSync("pgrep", ["-x", name]).toString().trim().split("\n").map(Number);
  } catch {
    return [];
  }
}

/** Total CPU of a set of processes, ms (processes that exited count as 0). */
export const cpuOf = (pids: number[]) => pids.reduce((a, p) => a + cpuMs(p), 0);

/** A process's own CPU and that of the children it reaped, ms. */
function cpuWithReaped(pid: number): { own: number; reaped: number } | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return {
      own: (Number(f[11]) + Number(f[12])) * TICK_MS,
      reaped: (Number(f[13]) + Number(f[14])) * TICK_MS,
    };
  } catch {
    return null;
  }
}

/**
 * CPU used by every process of these names between now and `read()`, ms. Processes come and go
 * meanwhile (PostgreSQL backends of pools that shrink or grow): one that started counts whole,
 * and one that exited counts through its parent, which reaped it (its time then shows among the
 * parent's children's time). Summing the processes seen at each end instead loses the exited
 * ones' time, and can come out negative.
 */
export function cpuMeter(names: string[]): { read(): number } {
  const snapshot = () =>
    new Map(
      names
        .flatMap(pidsOf)
        .map((pid) => [pid, cpuWithReaped(pid)] as const)
        .filter((e): e is [number, { own: number; reaped: number }] => e[1] !== null),
    );
  const before = snapshot();
  return {
    read: () => {
      const after = snapshot();
      let total = 0;
      for (const [pid, a] of after) {
        const b = before.get(pid);
        total += a.own + a.reaped - (b ? b.own + b.reaped : 0);
      }
      // An exited process's whole time is now in its parent's reaped time: take off what it
      // had used before the measurement began.
      for (const [pid, b] of before) if (!after.has(pid)) total -= b.own;
      return total;
    },
  };
}
