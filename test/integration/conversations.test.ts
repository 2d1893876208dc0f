import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConversationInfo, ConversationRun } from "../../contracts/index.js";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { contextHandlers } from "../../bin/handlers.js";
import { TEST_SECRET, createTestWorld } from "../helpers/env.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

const world = createTestWorld("conversations");
let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem(world, testCatalog());
  await system.startWorkers(contextHandlers(world.config(), "sea"));
});

afterAll(async () => {
  await system?.stop();
  await world.cleanup();
});

async function call(
  path: string,
  init: RequestInit & { key?: string; conversation?: string } = {},
) {
  const { key, conversation, ...rest } = init;
  return fetch(`${system.baseURL}${path}`, {
    ...rest,
    headers: {
      authorization: `Bearer ${key ?? system.apiKey}`,
      "content-type": "application/json",
      ...(conversation ? { "x-conversation-id": conversation } : {}),
    },
  });
}

const chat = (conversation: string, text: string, key?: string) =>
  call("/chat/completions", {
    method: "POST",
    conversation,
    ...(key ? { key } : {}),
    body: JSON.stringify({
      model: "sea",
      messages: [
        { role: "system", content: "Working directory: /work/app" },
        { role: "user", content: "earlier" },
        { role: "assistant", content: "earlier" },
        { role: "user", content: [{ type: "text", text }] },
      ],
    }),
  }).then((r) => r.json());

describe("conversations: the runs started under one X-Conversation-Id", () => {
  it("lists a conversation's chat and action runs in order, with requests and outcomes", async () => {
    await chat("conv-a", "first question");
    const action = await call("/editor/actions/refactor", {
      method: "POST",
      conversation: "conv-a",
      body: JSON.stringify({
        path: "/work/app/a.ts",
        language: "typescript",
        content: "const a = 1;\n",
        instruction: "tidy",
      }),
    });
    expect(action.status).toBe(200);
    await chat("conv-a", "second question");
    await chat("conv-b", "elsewhere");

    const res = await call("/conversations/conv-a/runs");
    expect(res.status).toBe(200);
    const runs = ((await res.json()) as { data: ConversationRun[] }).data;
    expect(runs.map((r) => [r.request.kind, r.status])).toEqual([
      ["chat", "completed"],
      ["action", "completed"],
      ["chat", "completed"],
    ]);
    expect(runs[0]!.request).toEqual({
      kind: "chat",
      message: { role: "user", content: [{ type: "text", text: "first question" }] },
    });
    expect(runs[0]!.result?.message.content).toBe("first question");
    expect(runs[0]!.id).toBe(`chatcmpl-${runs[0]!.stream_id}`);
    expect(runs[1]!.request).toMatchObject({
      kind: "action",
      action: "refactor",
      input: { path: "/work/app/a.ts", content: "const a = 1;\n", instruction: "tidy" },
    });
    expect(runs[1]!.result?.edits).toEqual([
      {
        path: "/work/app/a.ts",
        range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } },
        replacement: "const a = 1;\n",
      },
    ]);
  });

  it("lists the tenant's conversations, latest first, named by their first run", async () => {
    const res = await call("/conversations");
    const list = ((await res.json()) as { data: ConversationInfo[] }).data;
    expect(list.map((c) => [c.id, c.runs])).toEqual([
      ["conv-b", 1],
      ["conv-a", 3],
    ]);
    expect(list[1]).toMatchObject({
      title: "first question",
      instructions: "Working directory: /work/app",
    });
    const older = await call(`/conversations?before=${list[0]!.updated}`);
    const page = ((await older.json()) as { data: ConversationInfo[] }).data;
    expect(page.every((c) => c.updated < list[0]!.updated)).toBe(true);
  });

  it("shows another tenant nothing: the same 404 as a missing conversation", async () => {
    const other = await mintKey(TEST_SECRET, { tenant: "globex", ttlSecs: 600 });
    const runs = await call("/conversations/conv-a/runs", { key: other });
    expect(runs.status).toBe(404);
    expect(((await runs.json()) as { error: { code: string } }).error.code).toBe(
      "conversation_not_found",
    );
    const missing = await call("/conversations/nope/runs");
    expect(missing.status).toBe(404);
    const list = await call("/conversations", { key: other });
    expect(((await list.json()) as { data: unknown[] }).data).toEqual([]);
  });

  it("refuses a bad limit or cursor with a 400 naming it", async () => {
    const bad = await call("/conversations?limit=0");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe("limit");
    const cursor = await call("/conversations?before=yesterday");
    expect(((await cursor.json()) as { error: { param: string } }).error.param).toBe("before");
  });
});
