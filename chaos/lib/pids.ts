import { readdirSync, readFileSync } from "node:fs";

/**
 * Process helpers that act on the pids this suite started and their descendants only, never on
 * processes found by name (the machine's shared PostgreSQL and NATS must never be touched).
 */

/** The direct children of `pid` (from /proc). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** True while `pid` exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * SIGKILLs `pid` and every descendant of it, a crash that leaves nothing running: each process
 * is stopped first (SIGSTOP, so it forks nothing new), then its children are killed, then it.
 * Returns the pids signalled.
 */
export function killTree(pid: number): number[] {
  const signal = (p: number, s: NodeJS.Signals) => {
    try {
      process.kill(p, s);
    } catch {
      // already gone
    }
  };
  signal(pid, "SIGSTOP");
  const killed = childrenOf(pid).flatMap((child) => killTree(child));
  signal(pid, "SIGKILL");
  return [...killed, pid];
}

/** Waits until none of `pids` is alive (bounded). */
export async function waitGone(pids: number[], timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (pids.some(alive)) {
    if (Date.now() > until)
      throw new Error(`processes ${pids.filter(alive).join(",")} still alive`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
