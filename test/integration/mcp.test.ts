import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { contextHandlers } from "../../bin/handlers.js";
import { TEST_SECRET, createTestWorld, eventually } from "../helpers/env.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

const world = createTestWorld("mcp");
let system: TestSystem;
let mcpUrl: URL;
const clients: Client[] = [];

beforeAll(async () => {
  system = await startTestSystem(world, testCatalog());
  // Echo waits between words, so a call can be cancelled while it streams.
  await system.startWorkers(contextHandlers(world.config({ ECHO_DELAY_MS: "25" }), "sea"));
  mcpUrl = new URL(system.baseURL.replace(/\/v1$/, "/mcp"));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await system?.stop();
  await world.cleanup();
});

async function connect(key = system.apiKey): Promise<Client> {
  const client = new Client({ name: "sea-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(mcpUrl, {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const text = (r: CallToolResult) =>
  r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");

/** Outbox rows of cancelled streams, by reason. */
async function cancels(reason: string): Promise<string[]> {
  const r = await system.runtime.pools.sea.query<{ stream: string }>(
    `SELECT aggregate_id AS stream FROM outbox_events
      WHERE event_type = 'chat_cancel' AND payload->'payload'->>'reason' = $1`,
    [reason],
  );
  return r.rows.map((x) => x.stream);
}

/** The terminal event's error code of a stream, once it has one. */
async function terminalCode(stream: string): Promise<string | null | undefined> {
  const r = await system.runtime.pools.sea.query<{ code: string | null }>(
    `SELECT payload->'payload'->'error'->>'code' AS code FROM outbox_events
      WHERE aggregate_id = $1 AND event_type IN ('chat_failed', 'chat_completed')`,
    [stream],
  );
  return r.rows[0]?.code;
}

describe("MCP server at /mcp (the SDK's own client over streamable HTTP)", () => {
  it("reports the package's name and version as serverInfo", async () => {
    const pkg = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as {
      version: string;
    };
    expect((await connect()).getServerVersion()).toMatchObject({
      name: "sea-gateway",
      version: pkg.version,
    });
  });

  it("answers 401 with WWW-Authenticate without a key, and the client fails to connect", async () => {
    const r = await fetch(mcpUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "x", version: "1" },
        },
      }),
    });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    const client = new Client({ name: "anon", version: "1.0.0" });
    await expect(client.connect(new StreamableHTTPClientTransport(mcpUrl))).rejects.toMatchObject({
      code: 401,
    });
  });

  it("accepts the shipped LibreChat and Zed configurations (URL path and headers)", async () => {
    type Cfg = { url: string; headers: Record<string, string> };
    const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), "utf8");
    const libre = (parse(read("librechat.example.yaml")) as { mcpServers: Record<string, Cfg> })
      .mcpServers["sea-gateway"]!;
    const zed = (
      JSON.parse(read("examples/zed-settings.json")) as {
        context_servers: Record<string, Cfg>;
      }
    ).context_servers["sea-gateway"]!;
    for (const cfg of [libre, zed]) {
      // The example's path on this test's port; its header with a real key in place.
      const url = new URL(new URL(cfg.url).pathname, mcpUrl);
      const headers = Object.fromEntries(
        Object.entries(cfg.headers).map(([k, v]) => [
          k,
          v.replace("${SEA_API_KEY}", system.apiKey).replace("YOUR_SEA_API_KEY", system.apiKey),
        ]),
      );
      const client = new Client({ name: "shipped-config", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
      clients.push(client);
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    }
  });

  it("lists every action (with its input schema) and one chat tool per model", async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(
      [
        "chat_sea",
        "chat_vibespro",
        "explain",
        "generate_tests",
        "refactor",
        "validate_spec",
      ].sort(),
    );
    const refactor = tools.find((t) => t.name === "refactor")!;
    expect(refactor.inputSchema).toMatchObject({
      type: "object",
      required: ["path", "language", "content"],
    });
    expect(refactor.outputSchema).toMatchObject({
      required: ["text", "edits", "diagnostics", "usage"],
    });
  });

  it("shows a key only its allowed tools, and another key's session is not found", async () => {
    const other = await mintKey(TEST_SECRET, {
      tenant: "globex",
      ttlSecs: 600,
      models: ["explain", "vibespro"],
    });
    const client = await connect(other);
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["chat_vibespro", "explain"]);
    const denied = await client.callTool({
      name: "refactor",
      arguments: { path: "a.ts", language: "typescript", content: "x" },
    });
    expect(denied.isError).toBe(true);
    expect(text(denied as CallToolResult)).toMatch(/refactor not found/);
    // acme's session id used with globex's key.
    const acme = await connect();
    const sessionId = (acme.transport as StreamableHTTPClientTransport).sessionId!;
    const r = await fetch(mcpUrl, {
      method: "POST",
      headers: {
        authorization: `Bearer ${other}`,
        "mcp-session-id": sessionId,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
    });
    expect(r.status).toBe(404);
  });

  it("calls an action: text plus edits as structured content", async () => {
    const client = await connect();
    // "漢字" is two UTF-16 units, "😀" two more.
    const selection = { start: { line: 0, character: 4 }, end: { line: 0, character: 8 } };
    const r = (await client.callTool({
      name: "refactor",
      arguments: { path: "a.ts", language: "typescript", content: "let 漢字😀 = 1;", selection },
    })) as CallToolResult;
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({
      edits: [{ path: "a.ts", range: selection, replacement: "漢字😀" }],
      diagnostics: [],
    });
    expect(text(r)).toContain("kept as they are");
    expect(JSON.parse(r.content[1]!.type === "text" ? r.content[1]!.text : "{}")).toMatchObject({
      edits: [{ replacement: "漢字😀" }],
    });
  });

  it("streams a chat tool with progress notifications", async () => {
    const client = await connect();
    const progress: { progress: number; message?: string }[] = [];
    const prompt = "one two three four five six";
    const r = (await client.callTool({ name: "chat_sea", arguments: { prompt } }, undefined, {
      onprogress: (p) => progress.push(p),
    })) as CallToolResult;
    expect(text(r)).toBe(prompt);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.map((p) => p.message).join("")).toBe(prompt);
    const counts = progress.map((p) => p.progress);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });

  it("reports bad input and unknown tools as tool errors naming the problem", async () => {
    const client = await connect();
    const missing = (await client.callTool({
      name: "explain",
      arguments: { path: "a.ts", language: "typescript" },
    })) as CallToolResult;
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/content/);
    const outside = (await client.callTool({
      name: "explain",
      arguments: {
        path: "a.ts",
        language: "typescript",
        content: "ab",
        // One past the line's end is clamped (as LSP says); two past is outside.
        selection: { start: { line: 0, character: 0 }, end: { line: 0, character: 4 } },
      },
    })) as CallToolResult;
    expect(outside.isError).toBe(true);
    expect(text(outside)).toMatch(/selection\.end.*\[invalid_request\]/);
    const unknown = (await client.callTool({ name: "nope", arguments: {} })) as CallToolResult;
    expect(unknown.isError).toBe(true);
    // The prompt limits of the HTTP API hold for the chat tools too.
    const huge = (await client.callTool({
      name: "chat_sea",
      arguments: { prompt: "x".repeat(400_001) },
    })) as CallToolResult;
    expect(huge.isError).toBe(true);
    expect(text(huge)).toMatch(/prompt is too large/);
  });

  const reason = "cancelled by the MCP client";
  it.each([
    ["notifications/cancelled", (_c: Client, ac: AbortController) => ac.abort()],
    ["closing the connection", (c: Client) => void c.close()],
  ])("cancels the command when the client cancels (%s)", async (_how, cancel) => {
    const client = await connect();
    const before = new Set(await cancels(reason));
    const ac = new AbortController();
    let first!: () => void;
    const started = new Promise<void>((r) => (first = r));
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    const call = client
      .callTool({ name: "chat_sea", arguments: { prompt: words } }, undefined, {
        signal: ac.signal,
        onprogress: () => first(),
      })
      .catch((e: unknown) => e);
    await started;
    cancel(client, ac);
    await call;
    const stream = await eventually(
      async () => (await cancels(reason)).find((s) => !before.has(s)),
      10_000,
      "a cancel command",
    );
    expect(await eventually(() => terminalCode(stream), 10_000, "terminal event")).toBe(
      "cancelled",
    );
  });
});
