import OpenAI from "openai";
import { sdkClient } from "../helpers/zed-fetch.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestWorld, eventually } from "../helpers/env.js";
import { MockUpstream } from "../helpers/mock-upstream.js";
import type { TestSystem } from "../helpers/system.js";
import { startUpstreamSystem } from "../helpers/upstream-system.js";
import { sseChunks } from "../helpers/sse.js";
import { zedProblems } from "../helpers/zed-checker.js";

const world = createTestWorld("oai");
const upstream = new MockUpstream();
let system: TestSystem;
let client: OpenAI;

const models = [
  "text",
  "tools",
  "reasoning",
  "rate-limited",
  "broken",
  "slow",
  "slow-start",
  "slow-tools",
] as const;

beforeAll(async () => {
  await upstream.start();
  system = await startUpstreamSystem(world, upstream, models);
  client = sdkClient(system.baseURL, system.apiKey);
});

afterAll(async () => {
  await system?.stop();
  await upstream.stop();
  await world.cleanup();
});

async function rawStream(body: object): Promise<string> {
  const r = await fetch(`${system.baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${system.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ stream: true, stream_options: { include_usage: true }, ...body }),
  });
  return r.text();
}

describe("the openai handler against an OpenAI-compatible upstream", () => {
  it("streams text and usage through, and passes the request's parameters on", async () => {
    const stream = await client.chat.completions.create({
      model: "up-text",
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.3,
      top_p: 0.9,
      max_completion_tokens: 64,
      stop: ["END"],
      user: "user-42",
      reasoning_effort: "low",
      prompt_cache_key: "conv-1",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: [{ type: "text", text: "hi" }] },
      ],
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? "";
      usage = c.usage ?? usage;
    }
    expect(text).toBe("Hello from upstream.");
    expect(usage).toEqual({ prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 });
    const sent = upstream.calls.at(-1)!.body;
    expect(sent).toMatchObject({
      model: "text",
      stream: true,
      temperature: 0.3,
      top_p: 0.9,
      max_completion_tokens: 64,
      stop: ["END"],
      user: "user-42",
      reasoning_effort: "low",
      prompt_cache_key: "conv-1",
    });
    expect(sent).not.toHaveProperty("max_tokens");
    expect(sent.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: [{ type: "text", text: "hi" }] },
    ]);
  });

  it("sends max_tokens as max_tokens and max_completion_tokens as max_completion_tokens", async () => {
    const messages = [{ role: "user" as const, content: "hi" }];
    await client.chat.completions.create({ model: "up-text", messages, max_tokens: 40 });
    const old = upstream.calls.at(-1)!.body;
    expect(old.max_tokens).toBe(40);
    expect(old).not.toHaveProperty("max_completion_tokens");
    await client.chat.completions.create({ model: "up-text", messages, max_completion_tokens: 50 });
    const reasoning = upstream.calls.at(-1)!.body;
    expect(reasoning.max_completion_tokens).toBe(50);
    expect(reasoning).not.toHaveProperty("max_tokens");
  });

  it("assembles streamed tool-call fragments into a non-streaming answer", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
    ];
    const done = await client.chat.completions.create({
      model: "up-tools",
      tools,
      tool_choice: "auto",
      parallel_tool_calls: true,
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "c0", type: "function", function: { name: "get_weather", arguments: "{}" } },
          ],
        },
        { role: "tool", tool_call_id: "c0", content: "sunny" },
      ],
    });
    expect(done.choices[0]!.finish_reason).toBe("tool_calls");
    expect(done.choices[0]!.message.content).toBeNull();
    expect(done.choices[0]!.message.tool_calls).toEqual([
      {
        id: "call_a",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      },
      { id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } },
    ]);
    expect(upstream.calls.at(-1)!.body).toMatchObject({
      tools,
      tool_choice: "auto",
      parallel_tool_calls: true,
    });
  });

  it("streams tool-call deltas by index and finishes with tool_calls, as Zed parses them", async () => {
    const sse = await rawStream({
      model: "up-tools",
      messages: [{ role: "user", content: "weather?" }],
    });
    expect(zedProblems(sse)).toEqual([]);
    const chunks = sseChunks(sse);
    const frags = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(frags.map((f) => f.index)).toEqual([0, 0, 1, 0]);
    expect(
      frags
        .filter((f) => f.index === 0)
        .map((f) => f.function?.arguments ?? "")
        .join(""),
    ).toBe('{"city":"Paris"}');
    expect(chunks.some((c) => c.choices[0]?.finish_reason === "tool_calls")).toBe(true);
  });

  it("streams reasoning as delta.reasoning_content", async () => {
    const sse = await rawStream({
      model: "up-reasoning",
      messages: [{ role: "user", content: "?" }],
    });
    expect(zedProblems(sse)).toEqual([]);
    const reasoning = sseChunks(sse)
      .map((c) => (c.choices[0]?.delta as { reasoning_content?: string })?.reasoning_content ?? "")
      .join("");
    expect(reasoning).toBe("Let me think.");
  });

  it("keeps an upstream 429 a 429 with retry-after, typed by the SDK", async () => {
    const err = await client.chat.completions
      .create({
        model: "up-rate-limited",
        stream: true,
        messages: [{ role: "user", content: "x" }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers?.get("retry-after")).toBe(
      "7",
    );
  });

  it("turns an upstream 5xx into a 502", async () => {
    const err = await client.chat.completions
      .create({ model: "up-broken", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });

  type LeaveAt = (c: OpenAI.ChatCompletionChunk) => boolean;
  const leaves: [string, string, LeaveAt][] = [
    ["before the first token", "up-slow-start", () => true],
    ["mid-stream", "up-slow", (c) => Boolean(c.choices[0]?.delta.content?.startsWith("tick2"))],
    [
      "during a tool call",
      "up-slow-tools",
      (c) => Boolean(c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments),
    ],
  ];
  it.each(leaves)("stops the work when the client leaves %s", async (_when, model, leaveAt) => {
    const before = upstream.calls.length;
    const since = new Date();
    const ac = new AbortController();
    const pending = client.chat.completions.create(
      { model, stream: true, messages: [{ role: "user", content: "x" }] },
      { signal: ac.signal },
    );
    if (model === "up-slow-start") {
      // No byte comes before the first token: leave while the request is still waiting.
      await eventually(() => upstream.calls[before], 5_000, "upstream call");
      ac.abort();
      await pending.catch(() => undefined);
    } else {
      const stream = await pending;
      await (async () => {
        for await (const c of stream) if (leaveAt(c)) ac.abort();
      })().catch(() => undefined);
    }
    const call = await eventually(() => upstream.calls[before], 5_000, "upstream call");
    await eventually(() => call.aborted, 10_000, "upstream aborted");
    expect(call.finished).toBe(false);
    // The command's inbox row is closed with a 'cancelled' terminal event: no orphaned work.
    const row = await eventually(
      async () =>
        (
          await system.runtime.pools.sea.query(
            `SELECT i.processed_at, o.payload->'payload'->'error'->>'code' AS code
               FROM outbox_events c
               JOIN inbox_messages i ON i.message_id = c.id::text
               JOIN outbox_events o ON o.aggregate_id = c.aggregate_id AND o.event_type = 'chat_failed'
              WHERE c.event_type = 'chat_completion' AND c.occurred_at >= $1`,
            [since],
          )
        ).rows[0] as { processed_at: Date | null; code: string } | undefined,
      10_000,
      "inbox closed",
    );
    expect(row.processed_at).not.toBeNull();
    expect(row.code).toBe("cancelled");
  });
});
