import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RenderInput } from "../../src/gateway/responses/event-renderer.js";
import { codexBinary, codexExec, exampleCodexConfig } from "../helpers/codex.js";
import { FakeResponsesServer } from "../helpers/fake-responses-server.js";

/**
 * The Codex CLI itself against a `/v1/responses` server built from the gateway's Responses
 * modules (parsing, bridging to chat, rendering), configured by `examples/codex-config.toml`.
 * The run behind each request is scripted here; the gateway's own route replaces this server
 * once it exists.
 */

const KEY = "sea-test-key";
const usage = { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 };
const text = (t: string): RenderInput[] => [
  { kind: "delta", seq: 1, payload: { content: t.slice(0, 5) } },
  { kind: "delta", seq: 2, payload: { content: t.slice(5) } },
  {
    kind: "completed",
    payload: { message: { role: "assistant", content: t }, finish_reason: "stop", usage },
  },
];

type Item = { type?: string; call_id?: string; output?: unknown; name?: string; id?: string };
const inputOf = (body: Record<string, unknown>) => body.input as Item[];

const server = new FakeResponsesServer((req) => {
  const items = Array.isArray(req.input) ? (req.input as Item[]) : [];
  const output = items.find((i) => i.type === "function_call_output");
  if (req.model === "tool-turn" && !output) {
    // The model asks Codex to run its shell tool.
    const args = JSON.stringify({ cmd: "echo sea-tool-ran" });
    return [
      {
        kind: "delta",
        seq: 1,
        payload: {
          tool_calls: [
            {
              index: 0,
              id: "call_sea_1",
              type: "function",
              function: { name: "exec_command", arguments: args.slice(0, 8) },
            },
          ],
        },
      },
      {
        kind: "delta",
        seq: 2,
        payload: { tool_calls: [{ index: 0, function: { arguments: args.slice(8) } }] },
      },
      {
        kind: "completed",
        payload: {
          message: { role: "assistant", content: null },
          finish_reason: "tool_calls",
          usage,
        },
      },
    ];
  }
  if (output)
    return text(
      `The tool said: ${/sea-tool-ran/.test(JSON.stringify(output.output)) ? "sea-tool-ran" : "nothing"}`,
    );
  return text("Hello from the SEA gateway.");
});

let config: string;

beforeAll(async () => {
  await codexBinary(); // installs the pinned release once if it is missing (~420 MB)
  await server.start();
  config = await exampleCodexConfig(server.baseURL);
}, 300_000);
afterAll(() => server.stop());

// Failures end quickly: Codex otherwise retries a broken stream five times.
const noRetries = [
  "-c",
  "model_providers.sea.stream_max_retries=0",
  "-c",
  "model_providers.sea.request_max_retries=0",
];

describe("codex exec over /v1/responses", () => {
  it("prints the answer and exits 0; sends what RESPONSES.md §7 records", async () => {
    const r = await codexExec({
      config,
      prompt: "say hello",
      env: { SEA_API_KEY: KEY },
      args: noRetries,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("Hello from the SEA gateway.");
    const [req, ...more] = server.requests.filter((q) => q.method === "POST");
    expect(more).toEqual([]); // one request per turn, no /models
    expect(req!.url).toBe("/v1/responses");
    expect(req!.headers).toMatchObject({
      authorization: `Bearer ${KEY}`,
      accept: "text/event-stream",
      originator: "codex_exec",
    });
    expect(Object.keys(req!.body!).sort()).toEqual([
      "client_metadata",
      "include",
      "input",
      "model",
      "parallel_tool_calls",
      "prompt_cache_key",
      "reasoning",
      "store",
      "stream",
      "tool_choice",
      "tools",
    ]);
    expect(req!.body).toMatchObject({
      model: "sea",
      stream: true,
      store: false,
      tool_choice: "auto",
    });
    const tools = req!.body!.tools as { type: string }[];
    expect(tools.map((t) => t.type)).toEqual(
      expect.arrayContaining(["function", "namespace", "web_search"]),
    );
  }, 120_000);

  it("a function_call makes Codex run the tool and send function_call_output back", async () => {
    const before = server.bodies.length;
    const r = await codexExec({
      config: config.replace('model = "sea"', 'model = "tool-turn"'),
      prompt: "run the echo",
      env: { SEA_API_KEY: KEY },
      args: noRetries,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("The tool said: sea-tool-ran");
    const [first, second, ...more] = server.bodies.slice(before);
    expect(more).toEqual([]);
    expect(inputOf(first!).some((i) => i.type === "function_call")).toBe(false);
    // Turn 2 replays the call with the gateway's fc_ id, then the tool's output.
    const items = inputOf(second!);
    const call = items.find((i) => i.type === "function_call")!;
    expect(call).toMatchObject({
      type: "function_call",
      call_id: "call_sea_1",
      name: "exec_command",
      id: expect.stringMatching(/^fc_/),
    });
    const output = items.find((i) => i.type === "function_call_output")!;
    expect(output).toMatchObject({ call_id: "call_sea_1", id: expect.stringMatching(/^fco_/) });
    expect(String(output.output)).toContain("sea-tool-ran");
  }, 120_000);

  it("a failed response ends the turn with its message and exit 1", async () => {
    const failing = new FakeResponsesServer(() => [
      {
        kind: "failed",
        payload: {
          error: {
            message: "the upstream model is down",
            type: "server_error",
            code: "upstream_error",
            status: 502,
          },
        },
      },
    ]);
    await failing.start();
    try {
      const r = await codexExec({
        config: await exampleCodexConfig(failing.baseURL),
        prompt: "hi",
        env: { SEA_API_KEY: KEY },
        args: noRetries,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("the upstream model is down");
    } finally {
      await failing.stop();
    }
  }, 120_000);
});
