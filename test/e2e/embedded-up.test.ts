import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { zedCheckedFetch } from "../helpers/zed-fetch.js";
import { afterAll, describe, expect, it } from "vitest";
import { spawnCli, stopChild, waitReady } from "../helpers/cli.js";
import { freePort } from "../helpers/outbox.js";

describe("`sea-gateway up` with nothing configured", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("runs embedded Postgres and nats-server and prints a working URL and key", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "sea-embedded-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const [port, pgPort, natsPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawnCli(["up"], {
      PORT: String(port),
      DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      EMBEDDED_NATS_PORT: String(natsPort),
      LOG_LEVEL: "warn",
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    cleanups.push(() => stopChild(child));
    await waitReady(`http://127.0.0.1:${port}/health/ready`, child, 120_000);
    const key = /SEA_API_KEY=(\S+)/.exec(stdout)?.[1];
    expect(stdout).toContain(`http://127.0.0.1:${port}/v1`);
    expect(key).toBeTruthy();

    const client = new OpenAI({
      fetch: zedCheckedFetch,
      baseURL: `http://127.0.0.1:${port}/v1`,
      apiKey: key!,
      maxRetries: 0,
    });
    const stream = await client.chat.completions.create({
      model: "sea",
      stream: true,
      messages: [{ role: "user", content: "hello from a fresh machine" }],
    });
    let got = "";
    for await (const chunk of stream) got += chunk.choices[0]?.delta.content ?? "";
    expect(got, stderr).toBe("hello from a fresh machine");
    expect(await stopChild(child), stderr).toBe(0);
  }, 180_000);
});
