import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, spawnCli, stopChild, waitReady } from "../helpers/cli.js";
import { createTestWorld, eventually } from "../helpers/env.js";
import { scrape, valueOf } from "../helpers/metrics.js";
import { freePort } from "../helpers/outbox.js";

// A command `up` handed to its own worker is never published while it runs: its outbox row is
// its only durable copy. When that process dies mid-answer (kill -9), the row must still bring
// the command back: once the lease and the row's next attempt have run out, another instance's
// relay publishes it and its worker answers it whole.
const world = createTestWorld("upcrash");
const WORDS = Array.from({ length: 24 }, (_, i) => `word${i + 1}`).join(" ");
const children: ChildProcess[] = [];

async function startUp(): Promise<string> {
  const port = await freePort();
  const child = spawnCli(["up"], {
    ...world.env,
    PORT: String(port),
    LOG_LEVEL: "warn",
    // 24 words 150 ms apart: 3.6 s, time enough to kill the process mid-answer.
    ECHO_DELAY_MS: "150",
  });
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  await waitReady(`${base}/health/ready`, child);
  return base;
}

afterAll(async () => {
  for (const c of children) await stopChild(c);
  await world.cleanup();
});

describe("`up` killed while running a command it handed to its own worker", () => {
  it("loses nothing: another instance answers it whole once the lease has run out", async () => {
    const first = await startUp();
    const keys = await runCli(["keys", "create", "--tenant", "acme", "--ttl", "1h"], world.env);
    const auth = { authorization: `Bearer ${keys.stdout.trim()}` };
    const res = await fetch(`${first}/v1/chat/completions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({
        model: "sea",
        stream: true,
        messages: [{ role: "user", content: WORDS }],
      }),
    });
    expect(res.status).toBe(200);
    const streamId = res.headers.get("x-stream-id")!;
    // Mid-answer: a few chunks have come.
    const reader = res.body!.getReader();
    let seen = "";
    while ((seen.match(/data: /g) ?? []).length < 4) {
      const { value } = await reader.read();
      seen += new TextDecoder().decode(value);
    }
    expect(valueOf(await scrape(first), "command_handoffs_total", { context: "sea" })).toBe(1);
    const dead = once(children[0]!, "exit");
    children[0]!.kill("SIGKILL");
    await dead;
    await reader.cancel().catch(() => undefined);

    const second = await startUp();
    const status = await eventually(
      async () => {
        const r = await fetch(`${second}/v1/chat/completions/${streamId}`, { headers: auth });
        const s = (await r.json()) as {
          status: string;
          choices: { message: { content: string } }[];
        };
        return s.status === "completed" ? s : null;
      },
      30_000,
      "the command answered by the other instance",
    );
    expect(status.choices[0]!.message.content).toBe(WORDS);
    const db = new pg.Client({ connectionString: world.databaseUrls.sea });
    await db.connect();
    try {
      const r = await db.query<{ claims: number; unpublished: number }>(
        `SELECT i.process_attempts AS claims,
                (SELECT count(*)::int FROM outbox_unpublished u WHERE u.id = o.id) AS unpublished
           FROM outbox_events o JOIN inbox_messages i ON i.message_id = o.id::text
          WHERE o.aggregate_id = $1 AND o.event_type = 'chat_completion'`,
        [streamId],
      );
      // Claimed by the killed process, then by the other one; its row published in the end.
      expect(r.rows).toEqual([{ claims: 2, unpublished: 0 }]);
    } finally {
      await db.end();
    }
  }, 90_000);
});
