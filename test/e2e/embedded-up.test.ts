import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portInUse } from "../../adapters/embedded/port.js";
import { runCli, spawnCli, stopChild, waitReady } from "../helpers/cli.js";
import { eventually, TEST_SECRET } from "../helpers/env.js";
import { freePort } from "../helpers/outbox.js";
import { zedCheckedFetch } from "../helpers/zed-fetch.js";

/** Processes whose command line mentions `text` (the embedded servers name the data dir). */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir("/proc")).filter((p) => /^\d+$/.test(p))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(text)) found.push(`${pid}: ${cmd.replaceAll("\0", " ").trim()}`);
  }
  return found;
}

/** A `sea-gateway up` in embedded mode, in a process group of its own like a terminal's job. */
interface Up {
  child: ChildProcess;
  port: number;
  key: string;
  stdout: () => string;
  stderr: () => string;
}

describe("`sea-gateway up` with nothing configured", () => {
  let dataDir: string;
  let pgPort: number;
  let natsPort: number;
  const children: ChildProcess[] = [];
  /** The instance the first two tests share. */
  let up: Up;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "sea-embedded-"));
    [pgPort, natsPort] = [await freePort(), await freePort()];
  });
  afterAll(async () => {
    for (const c of children) await stopChild(c);
    await eventually(async () => (await processesMentioning(dataDir)).length === 0, 15_000);
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startUp(env: Record<string, string> = {}): Promise<Up> {
    const port = await freePort();
    const child = spawnCli(
      ["up"],
      {
        PORT: String(port),
        DATA_DIR: dataDir,
        EMBEDDED_POSTGRES_PORT: String(pgPort),
        EMBEDDED_NATS_PORT: String(natsPort),
        LOG_LEVEL: "warn",
        ...env,
      },
      { ownGroup: true },
    );
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    await waitReady(`http://127.0.0.1:${port}/health/ready`, child, 120_000);
    const key = /SEA_API_KEY=(\S+)/.exec(stdout)?.[1];
    expect(stdout).toContain(`http://127.0.0.1:${port}/v1`);
    expect(key).toBeTruthy();
    return { child, port, key: key!, stdout: () => stdout, stderr: () => stderr };
  }

  const client = (up: Up) =>
    new OpenAI({
      fetch: zedCheckedFetch,
      baseURL: `http://127.0.0.1:${up.port}/v1`,
      apiKey: up.key,
      maxRetries: 0,
    });

  /** A terminal's Ctrl-C: SIGINT to every process of the job's group. */
  const ctrlC = (up: Up) => process.kill(-up.child.pid!, "SIGINT");

  /** Waits for the exit; resolves with the exit code. */
  async function exitOf(up: Up): Promise<{ code: number | null }> {
    if (up.child.exitCode !== null || up.child.signalCode !== null) {
      return { code: up.child.exitCode };
    }
    const [code] = (await once(up.child, "exit")) as [number | null];
    return { code };
  }

  async function expectEverythingStopped(): Promise<void> {
    await eventually(
      async () =>
        (await processesMentioning(dataDir)).length === 0 &&
        !(await portInUse(pgPort)) &&
        !(await portInUse(natsPort)),
      10_000,
      "the embedded services to exit",
    );
  }

  it("runs embedded Postgres and nats-server, prints a working URL and key; refuses, in one line each, a second start on the same data directory and a gateway on a taken PORT", async () => {
    up = await startUp({ ECHO_DELAY_MS: "100", SHUTDOWN_GRACE_MS: "2000" });
    const embedded = `postgres://postgres:postgres@127.0.0.1:${pgPort}`;
    const [second, samePort] = await Promise.all([
      runCli(["up"], {
        PORT: String(await freePort()),
        DATA_DIR: dataDir,
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        EMBEDDED_NATS_PORT: String(await freePort()),
      }),
      // The running instance's services, already migrated: only the port is wrong.
      runCli(["gateway"], {
        PORT: String(up.port),
        NATS_URL: `nats://127.0.0.1:${natsPort}`,
        SEA_DATABASE_URL: `${embedded}/sea_db`,
        VIBESPRO_DATABASE_URL: `${embedded}/vibespro_db`,
        GATEWAY_JWT_SECRET: TEST_SECRET,
        LOG_LEVEL: "warn",
      }),
    ]);
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^sea-gateway: embedded PostgreSQL is already running \(PID \d+\) on .*postmaster\.pid lock.*set DATA_DIR/,
      ),
    ]);
    expect(samePort.code).toBe(1);
    expect(samePort.stderr).toBe(
      `sea-gateway: PORT=${up.port} on HOST=127.0.0.1 is already in use: stop what listens ` +
        "there, or set PORT\n",
    );
  }, 180_000);

  it("Ctrl-C (SIGINT to the process group): open streams finish, or end with an error event after SHUTDOWN_GRACE_MS; then everything exits", async () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i + 1}`).join(" ");
    // At 100 ms a word: the short stream ends well within the 2 s grace, the long one cannot.
    const [short, long] = [words(6), words(60)];
    const open = (content: string) =>
      client(up).chat.completions.create({
        model: "sea",
        stream: true,
        messages: [{ role: "user", content }],
      });
    const reader = async (content: string) => {
      const stream = await open(content);
      const it = stream[Symbol.asyncIterator]();
      let got = "";
      // Read until the first word, so that both streams are under way at the Ctrl-C.
      while (!got) got += (await it.next()).value?.choices[0]?.delta.content ?? "";
      return {
        got: () => got,
        rest: (async () => {
          for (let r = await it.next(); !r.done; r = await it.next()) {
            got += r.value.choices[0]?.delta.content ?? "";
          }
        })(),
      };
    };
    const [a, b] = await Promise.all([reader(short), reader(long)]);
    const sent = Date.now();
    ctrlC(up);
    await a.rest;
    expect(a.got()).toBe(short);
    await expect(b.rest).rejects.toThrow(/shutting down/);
    expect(b.got().length).toBeLessThan(long.length / 2);
    const { code } = await exitOf(up);
    expect(code, up.stderr()).toBe(0);
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(up.stderr()).not.toMatch(/\n\s+at /);
    await expectEverythingStopped();
  }, 60_000);

  it("a gateway killed outright leaves no embedded PostgreSQL or nats-server behind", async () => {
    const up = await startUp();
    expect(await processesMentioning(dataDir)).not.toEqual([]);
    process.kill(up.child.pid!, "SIGKILL");
    await exitOf(up);
    await expectEverythingStopped();
  }, 120_000);
});
