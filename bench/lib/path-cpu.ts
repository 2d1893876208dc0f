/**
 * CPU of every process on a request's path, from /proc (utime + stime), for CPU per unit of work:
 * named process sets (the gateway's roles with their descendants, a private nats-server, the
 * proxy) and the Postgres backends serving the bench's own databases (found through
 * pg_stat_activity, so other databases' backends on the shared server are never counted). The
 * load generator and the mock upstream are never in a set.
 */
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { cpuMs } from "./processes.js";

/** Pids of `pid` and all its descendants (a role that spawns helpers counts whole). */
export function withDescendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** What `measure` reports: CPU ms per named set over the window. */
export type CpuBySet = Record<string, number>;

/** Write system calls a process has made so far (`syscw` of /proc/<pid>/io; 0 once gone). */
export function writeCalls(pid: number): number {
  try {
    return Number(/syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Measures CPU per set from `start()` to `stop()`. Postgres backends are polled while the window
 * is open (every 200 ms), so a backend that connects meanwhile counts from its start; one that
 * exits counts up to its last poll. Process sets are fixed pids (plus descendants at start).
 */
export function pathCpuMeter(opts: {
  sets: Record<string, number[]>;
  /** Admin connection string to the shared Postgres, and the bench's own database names. */
  pg?: { url: string; databases: string[] };
}) {
  let admin: pg.Client | null = null;
  const pgBefore = new Map<number, number>();
  const pgLast = new Map<number, number>();
  let timer: NodeJS.Timeout | null = null;
  let polling: Promise<void> = Promise.resolve();
  let before: Record<string, number> = {};
  let writesBefore = 0;
  let pids: Record<string, number[]> = {};

  const backends = async (): Promise<number[]> => {
    if (!admin || !opts.pg) return [];
    const r = await admin.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()",
      [opts.pg.databases],
    );
    return r.rows.map((x) => x.pid);
  };
  const poll = async (first: boolean) => {
    for (const pid of await backends()) {
      const c = cpuMs(pid);
      if (first) pgBefore.set(pid, c);
      else if (!pgBefore.has(pid) && !pgLast.has(pid)) pgBefore.set(pid, 0);
      if (c > 0) pgLast.set(pid, c);
    }
  };
  const sumSet = (name: string) => pids[name]!.reduce((a, p) => a + cpuMs(p), 0);
  const allWrites = () =>
    Object.values(pids)
      .flat()
      .reduce((a, p) => a + writeCalls(p), 0);

  return {
    async open(): Promise<void> {
      if (opts.pg) {
        admin = new pg.Client({ connectionString: opts.pg.url });
        await admin.connect();
      }
    },
    async start(): Promise<void> {
      pids = Object.fromEntries(
        Object.entries(opts.sets).map(([k, v]) => [k, v.flatMap(withDescendants)]),
      );
      pgBefore.clear();
      pgLast.clear();
      await poll(true);
      before = Object.fromEntries(Object.keys(pids).map((k) => [k, sumSet(k)]));
      writesBefore = allWrites();
      timer = setInterval(() => {
        polling = polling.then(() => poll(false)).catch(() => undefined);
      }, 200);
    },
    /** CPU ms per set, and the write system calls of the process sets (not Postgres). */
    async stop(): Promise<{ cpu: CpuBySet; writes: number }> {
      const out: CpuBySet = {};
      for (const k of Object.keys(pids)) out[k] = sumSet(k) - before[k]!;
      const writes = allWrites() - writesBefore;
      if (timer) clearInterval(timer);
      await polling;
      if (opts.pg) {
        await poll(false);
        let total = 0;
        for (const [pid, last] of pgLast) total += last - (pgBefore.get(pid) ?? 0);
        out.postgres = total;
      }
      return { cpu: out, writes };
    },
    async close(): Promise<void> {
      await admin?.end();
    },
  };
}
