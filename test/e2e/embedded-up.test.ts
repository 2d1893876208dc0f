import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portInUse } from "../../adapters/embedded/port.js";
import { runCli, spawnCli, stopChild, waitReady } from "../helpers/cli.js";
import { eventually } from "../helpers/env.js";
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
  const twentyWords = Array.from({ length: 20 }, (_, i) => `w${i + 1}`).join(" ");

  /** A terminal's Ctrl-C: SIGINT to every process of the job's group. */
  const ctrlC = (up: Up) => process.kill(-up.child.pid!, "SIGINT");

  /** Waits for the exit; resolves with the exit code and how long it took. */
  async function exitOf(up: Up): Promise<{ code: number | null; ms: number }> {
    const started = Date.now();
    const [code] =
      up.child.exitCode !== null
        ? [up.child.exitCode]
        : ((await once(up.child, "exit")) as [number | null]);
    return { code, ms: Date.now() - started };
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

  it("runs embedded Postgres and nats-server, prints a working URL and key; a second start on the same data directory is refused in one line; Ctrl-C lets the open stream finish, then stops everything", async () => {
    const up = await startUp({ ECHO_DELAY_MS: "100" });
    const second = await runCli(["up"], {
      PORT: String(await freePort()),
      DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      EMBEDDED_NATS_PORT: String(await freePort()),
    });
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^sea-gateway: embedded PostgreSQL is already running \(PID \d+\) on .*postmaster\.pid lock.*set DATA_DIR/,
      ),
    ]);

    const stream = await client(up).chat.completions.create({
      model: "sea",
      stream: true,
      messages: [{ role: "user", content: twentyWords }],
    });
    let got = "";
    let interrupted = false;
    for await (const chunk of stream) {
      got += chunk.choices[0]?.delta.content ?? "";
      if (!interrupted && got) {
        interrupted = true;
        ctrlC(up);
      }
    }
    expect(got).toBe(twentyWords);
    const { code, ms } = await exitOf(up);
    expect(code, up.stderr()).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(up.stderr()).not.toMatch(/\n\s+at /);
    await expectEverythingStopped();
  }, 180_000);

  it("Ctrl-C: a stream longer than SHUTDOWN_GRACE_MS ends with an error event, and everything exits", async () => {
    const up = await startUp({ ECHO_DELAY_MS: "300", SHUTDOWN_GRACE_MS: "500" });
    const stream = await client(up).chat.completions.create({
      model: "sea",
      stream: true,
      messages: [{ role: "user", content: twentyWords }],
    });
    let got = "";
    let interrupted = false;
    const read = (async () => {
      for await (const chunk of stream) {
        got += chunk.choices[0]?.delta.content ?? "";
        // Once: a second Ctrl-C would force the exit.
        if (!interrupted && got) {
          interrupted = true;
          ctrlC(up);
        }
      }
    })();
    await expect(read).rejects.toThrow(/shutting down/);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(twentyWords.length / 2);
    const { code, ms } = await exitOf(up);
    expect(code, up.stderr()).toBe(0);
    expect(ms).toBeLessThan(8_000);
    expect(up.stderr()).not.toMatch(/\n\s+at /);
    await expectEverythingStopped();
  }, 120_000);

  it("a gateway killed outright leaves no embedded PostgreSQL or nats-server behind", async () => {
    const up = await startUp();
    expect(await processesMentioning(dataDir)).not.toEqual([]);
    process.kill(up.child.pid!, "SIGKILL");
    await exitOf(up);
    await expectEverythingStopped();
  }, 120_000);
});
