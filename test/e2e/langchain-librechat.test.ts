import { AIMessageChunk, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openaiUpstreamHandler } from "../../adapters/handlers/openai-upstream.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld } from "../helpers/env.js";
import { MockUpstream } from "../helpers/mock-upstream.js";
import { zedCheckedFetch } from "../helpers/zed-fetch.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

const world = createTestWorld("lc");
const upstream = new MockUpstream();
let system: TestSystem;

/** ChatOpenAI configured the way LibreChat configures a custom endpoint. */
function libreChatClient(streaming: boolean): ChatOpenAI {
  return new ChatOpenAI({
    model: "vibespro",
    apiKey: system.apiKey,
    streaming,
    streamUsage: true,
    temperature: 1,
    topP: 1,
    presencePenalty: 0,
    frequencyPenalty: 0,
    maxRetries: 0,
    modelKwargs: { user: "lc-user-1" },
    configuration: {
      baseURL: system.baseURL,
      fetch: zedCheckedFetch,
      defaultHeaders: { "X-User-Id": "lc-user-1", "X-Conversation-Id": "conv-77" },
    },
  });
}

beforeAll(async () => {
  await upstream.start();
  // A reasoning model's name: LangChain sends max_completion_tokens for those.
  system = await startTestSystem(
    world,
    testCatalog([{ id: "o3-mini", context: "sea", handler: "openai", upstream_model: "text" }]),
  );
  await system.startWorkers(
    new HandlerRegistry()
      .register(echoHandler())
      .register(openaiUpstreamHandler({ baseUrl: upstream.baseUrl })),
  );
});

afterAll(async () => {
  await system?.stop();
  await upstream.stop();
  await world.cleanup();
});

describe("LangChain's ChatOpenAI as LibreChat uses it", () => {
  it("streams a chat with usage", async () => {
    const text = "LibreChat streams through LangChain";
    let whole: AIMessageChunk | undefined;
    for await (const chunk of await libreChatClient(true).stream([
      new SystemMessage("You are helpful."),
      new HumanMessage(text),
    ])) {
      whole = whole ? whole.concat(chunk) : chunk;
    }
    expect(whole?.content).toBe(text);
    expect(whole?.usage_metadata).toMatchObject({
      input_tokens: 7,
      output_tokens: 4,
      total_tokens: 11,
    });
  });

  it("answers the non-streaming title request and records user and conversation", async () => {
    const title = await libreChatClient(false).invoke([
      new HumanMessage("Provide a concise, 5-word-or-less title for the conversation"),
    ]);
    expect(title.content).toBe("Provide a concise, 5-word-or-less title for the conversation");
    const row = await system.runtime.pools.vibespro.query(
      `SELECT payload->'payload'->>'user' AS "user", payload->'payload'->>'conversation_id' AS conv
         FROM outbox_events WHERE event_type = 'chat_completion' ORDER BY occurred_at DESC LIMIT 1`,
    );
    expect(row.rows[0]).toEqual({ user: "lc-user-1", conv: "conv-77" });
  });

  it("keeps max_completion_tokens, which it sends for a reasoning model, up to the upstream", async () => {
    const client = new ChatOpenAI({
      model: "o3-mini",
      apiKey: system.apiKey,
      maxTokens: 256,
      maxRetries: 0,
      configuration: { baseURL: system.baseURL, fetch: zedCheckedFetch },
    });
    const answer = await client.invoke([new HumanMessage("hi")]);
    expect(answer.content).toBe("Hello from upstream.");
    const sent = upstream.calls.at(-1)!.body;
    expect(sent.max_completion_tokens).toBe(256);
    expect(sent).not.toHaveProperty("max_tokens");
  });
});
