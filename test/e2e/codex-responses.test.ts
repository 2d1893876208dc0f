import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codexBinary, codexExec, exampleCodexConfig } from "../helpers/codex.js";
import { createTestWorld } from "../helpers/env.js";
import { MockUpstream } from "../helpers/mock-upstream.js";
import type { TestSystem } from "../helpers/system.js";
import { startUpstreamSystem } from "../helpers/upstream-system.js";

/**
 * The Codex CLI itself against the gateway's `/v1/responses` (real Postgres, NATS, workers
 * running the `openai` handler against a mock upstream model), configured by
 * `examples/codex-config.toml` with the model name swapped.
 */
const world = createTestWorld("codex");
const upstream = new MockUpstream();
let system: TestSystem;
let config: string;

beforeAll(async () => {
  await codexBinary(); // installs the pinned release once if it is missing (~420 MB)
  await upstream.start();
  system = await startUpstreamSystem(world, upstream, ["text", "tool-turn", "broken"]);
  config = await exampleCodexConfig(system.baseURL);
}, 300_000);

afterAll(async () => {
  await system?.stop();
  await upstream.stop();
  await world.cleanup();
});

// Failures end quickly: Codex otherwise retries a broken stream five times.
const noRetries = [
  "-c",
  "model_providers.sea.stream_max_retries=0",
  "-c",
  "model_providers.sea.request_max_retries=0",
];
const withModel = (m: string) => config.replace(/^model = "sea"/m, `model = "${m}"`);

describe("codex exec over the gateway's /v1/responses", () => {
  it("prints the gateway's answer and exits 0", async () => {
    const before = upstream.calls.length;
    const r = await codexExec({
      config: withModel("up-text"),
      prompt: "say hello",
      env: { SEA_API_KEY: system.apiKey },
      args: noRetries,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("Hello from upstream.");
    // One turn, one run: Codex's developer messages lead as system messages; its namespace
    // tools are flattened functions; its built-in web_search is dropped.
    const [sent, ...more] = upstream.calls.slice(before);
    expect(more).toEqual([]);
    const messages = sent!.body.messages as { role: string; content: unknown }[];
    expect(messages[0]!.role).toBe("system");
    expect(JSON.stringify(messages.at(-1))).toContain("say hello");
    const names = (sent!.body.tools as { type: string; function: { name: string } }[]).map(
      (t) => t.function.name,
    );
    expect(names).toContain("exec_command");
    expect(names.some((n) => n.includes("__"))).toBe(true);
    expect((sent!.body.tools as { type: string }[]).every((t) => t.type === "function")).toBe(true);
  }, 120_000);

  it("a function_call from the model makes Codex run the tool and send its output back", async () => {
    const before = upstream.calls.length;
    const r = await codexExec({
      config: withModel("up-tool-turn"),
      prompt: "run the echo",
      env: { SEA_API_KEY: system.apiKey },
      args: noRetries,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("The tool said:");
    expect(r.stdout).toContain("sea-tool-ran");
    const [first, second, ...more] = upstream.calls.slice(before);
    expect(more).toEqual([]);
    expect((first!.body.messages as { role: string }[]).some((m) => m.role === "tool")).toBe(false);
    // Turn 2 replays the call (with the gateway's fc_ id) and the tool's output.
    const messages = second!.body.messages as {
      role: string;
      tool_calls?: { id: string; function: { name: string } }[];
      tool_call_id?: string;
      content?: unknown;
    }[];
    const call = messages.find((m) => m.tool_calls)!.tool_calls![0]!;
    expect(call).toMatchObject({ id: "call_t1", function: { name: "exec_command" } });
    const output = messages.find((m) => m.role === "tool")!;
    expect(output.tool_call_id).toBe("call_t1");
    expect(JSON.stringify(output.content)).toContain("sea-tool-ran");
  }, 120_000);

  it("a failed response ends the turn with its message and exit 1", async () => {
    const r = await codexExec({
      config: withModel("up-broken"),
      prompt: "hi",
      env: { SEA_API_KEY: system.apiKey },
      args: noRetries,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/upstream/i);
  }, 120_000);
});
