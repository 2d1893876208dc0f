import type { ChildProcess } from "node:child_process";
import OpenAI from "openai";
import { sdkClient } from "../helpers/zed-fetch.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestWorld } from "../helpers/env.js";
import { runCli, spawnCli, stopChild, waitReady } from "../helpers/cli.js";
import { freePort } from "../helpers/outbox.js";
import { zedProblems } from "../helpers/zed-checker.js";

const world = createTestWorld("up");
let child: ChildProcess;
let baseURL: string;
let client: OpenAI;

beforeAll(async () => {
  const port = await freePort();
  baseURL = `http://127.0.0.1:${port}/v1`;
  child = spawnCli(["up"], { ...world.env, PORT: String(port), LOG_LEVEL: "warn" });
  await waitReady(`http://127.0.0.1:${port}/health/ready`, child);
  const keys = await runCli(["keys", "create", "--tenant", "acme", "--ttl", "1h"], world.env);
  expect(keys.code).toBe(0);
  client = sdkClient(baseURL, keys.stdout.trim());
});

afterAll(async () => {
  if (child) expect(await stopChild(child)).toBe(0);
  await world.cleanup();
});

describe("end to end through `sea-gateway up` with the openai SDK", () => {
  it("keys create prints the token alone", async () => {
    const keys = await runCli(["keys", "create", "--tenant", "acme"], world.env);
    expect(keys.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  it("keys create puts the model allow-list, per-key limits and the admin claim in the key", async () => {
    const r = await runCli(
      [
        "keys",
        "create",
        "--tenant",
        "acme",
        "--models",
        "sea, vibespro",
        "--rpm",
        "5",
        "--max-streams",
        "2",
        "--ttl",
        "2h",
        "--admin",
      ],
      world.env,
    );
    const claims = JSON.parse(Buffer.from(r.stdout.trim().split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({
      tenant: "acme",
      models: ["sea", "vibespro"],
      rpm: 5,
      max_streams: 2,
      admin: true,
    });
    expect(claims.exp - claims.iat).toBe(7200);
    const bad = await runCli(["keys", "create", "--tenant", "acme", "--rpm", "0"], world.env);
    expect(bad.code).toBe(2);
  });

  it("lists both contexts' chat capabilities", async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(["sea", "vibespro"]));
  });

  it.each(["sea", "vibespro"])(
    "streams %s: the text equals the input, then usage",
    async (model) => {
      const text = "Streams  carry\tevery word back, exactly as sent.";
      const { data: stream, response } = await client.chat.completions
        .create({
          model,
          stream: true,
          stream_options: { include_usage: true },
          messages: [
            { role: "system", content: "echo" },
            { role: "user", content: text },
          ],
        })
        .withResponse();
      expect(response.headers.get("x-stream-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      let got = "";
      const ids = new Set<string>();
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        ids.add(chunk.id);
        got += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) {
          expect(chunk.choices).toEqual([]);
          usage = chunk.usage;
        }
      }
      expect(got).toBe(text);
      expect(ids.size).toBe(1);
      expect(finish).toBe("stop");
      expect(usage).toEqual({ prompt_tokens: 9, completion_tokens: 8, total_tokens: 17 });
    },
  );

  it.each(["sea", "vibespro"])("answers %s without streaming", async (model) => {
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: "user", content: "Provide a concise title" }] })
      .withResponse();
    expect(response.headers.get("x-stream-id")).toBeTruthy();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]!.message).toMatchObject({
      role: "assistant",
      content: "Provide a concise title",
    });
    expect(data.choices[0]!.finish_reason).toBe("stop");
    expect(data.usage).toEqual({ prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 });
  });

  it("answers errors as the SDK's typed errors", async () => {
    const msg = [{ role: "user" as const, content: "hi" }];
    const bad = sdkClient(baseURL, "not-a-key");
    await expect(
      bad.chat.completions.create({ model: "sea", messages: msg }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(
      client.chat.completions.create({ model: "gpt-9", messages: msg }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      client.chat.completions.create({ model: "sea", messages: [] }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(
      client.chat.completions.create({ model: "sea", messages: msg, n: 2 }),
    ).rejects.toMatchObject({ status: 400, param: "n" });
  });

  it.each(["sea", "vibespro"])(
    "streams %s in a form Zed's strict parser accepts",
    async (model) => {
      const r = await fetch(`${baseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          model,
          stream: true,
          stream_options: { include_usage: true },
          temperature: 0.7,
          max_completion_tokens: 100,
          tool_choice: "auto",
          tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
          messages: [{ role: "user", content: [{ type: "text", text: "zed says hi" }] }],
        }),
      });
      const sse = await r.text();
      expect(zedProblems(sse)).toEqual([]);
      expect(sse).toContain('"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}');
    },
  );

  it("refuses bad JSON with a 400 OpenAI error body", async () => {
    const r = await fetch(`${baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { type: "invalid_request_error" } });
  });
});
