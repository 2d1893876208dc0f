import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as acp from "@agentclientprotocol/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConversationRun } from "../../contracts/index.js";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { contextHandlers } from "../../bin/handlers.js";
import { AcpAgentProcess } from "../helpers/acp-client.js";
import { runCli } from "../helpers/cli.js";
import { TEST_SECRET, createTestWorld, eventually } from "../helpers/env.js";
import { MockUpstream } from "../helpers/mock-upstream.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const world = createTestWorld("acp");
const upstream = new MockUpstream();
let system: TestSystem;
let proxy: TcpProxy;
let gatewayUrl: string;
let emptyConfigHome: string;
const agents: AcpAgentProcess[] = [];

const CWD = "/work/app";
const SRC = `${CWD}/src/add.ts`;
const SRC_TEXT = "export function add(a: number, b: number) {\n  return a + b;\n}\n";
const SPEC = `${CWD}/specs/orders.md`;
const SPEC_TEXT = "# Orders\nTODO: define refunds\nOrders ship in 2 days.\n- TODO owner\n";
const version = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8"))
  .version as string;

function agent(env: Record<string, string> = {}, files?: Map<string, string>): AcpAgentProcess {
  const a = new AcpAgentProcess(
    {
      SEA_GATEWAY_URL: gatewayUrl,
      SEA_API_KEY: system.apiKey,
      XDG_CONFIG_HOME: emptyConfigHome,
      LOG_LEVEL: "warn",
      ...env,
    },
    files ??
      new Map([
        [SRC, SRC_TEXT],
        [SPEC, SPEC_TEXT],
      ]),
  );
  agents.push(a);
  return a;
}

async function gatewayRuns(sessionId: string): Promise<ConversationRun[]> {
  const res = await fetch(`${system.baseURL}/conversations/${sessionId}/runs`, {
    headers: { authorization: `Bearer ${system.apiKey}` },
  });
  return ((await res.json()) as { data: ConversationRun[] }).data;
}

const errorOf = async (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected an error");
    },
    (err: { code: number; message: string }) => err,
  );

let main: AcpAgentProcess;
let sessionId: string;

beforeAll(async () => {
  await upstream.start();
  const env = { UPSTREAM_OPENAI_BASE_URL: upstream.baseUrl };
  system = await startTestSystem(
    world,
    testCatalog([
      { id: "thinker", context: "sea", handler: "openai", upstream_model: "reasoning" },
    ]),
    // A reader that leaves does not stop a run for a while: only an explicit cancel does.
    { ...env, STREAM_CANCEL_GRACE_MS: "60000" },
  );
  // Echo pauses between words, so a long answer is still streaming when it is cut or cancelled.
  await system.startWorkers(contextHandlers(world.config({ ...env, ECHO_DELAY_MS: "5" }), "sea"));
  const { port } = new URL(system.baseURL);
  // Every agent reaches the gateway through a proxy whose connections the tests can break.
  proxy = await new TcpProxy({ host: "127.0.0.1", port: Number(port) }).start();
  gatewayUrl = `${proxy.url}/v1`;
  emptyConfigHome = await mkdtemp(join(tmpdir(), "acp-empty-"));
  main = agent();
});

afterAll(async () => {
  for (const a of agents) if (a.child.exitCode === null) a.child.kill();
  await proxy?.stop();
  await system?.stop();
  await upstream.stop();
  await world.cleanup();
});

describe("sea-gateway acp driven by the ACP SDK's own client over stdio", () => {
  it("initializes with loadSession, embedded context, session list and the package version", async () => {
    const init = await main.initialize({
      fs: { readTextFile: true, writeTextFile: true },
      auth: { terminal: true },
    });
    expect(init.protocolVersion).toBe(1);
    expect(init.agentCapabilities).toMatchObject({
      loadSession: true,
      promptCapabilities: { embeddedContext: true, image: false },
      sessionCapabilities: { list: {} },
    });
    expect(init.agentInfo).toMatchObject({ name: "sea-gateway", version });
    expect(init.authMethods?.map((m) => m.id)).toEqual(["sea-api-key", "sea-login"]);
    expect(init.authMethods?.[1]).toMatchObject({ type: "terminal", args: ["acp", "--login"] });
  });

  it("session/new checks the key, then lists the key's editor actions as slash commands", async () => {
    const created = await main.agent.request("session/new", { cwd: CWD, mcpServers: [] });
    sessionId = created.sessionId;
    const commands = await eventually(() =>
      main.of(sessionId).find((u) => u.sessionUpdate === "available_commands_update"),
    );
    expect((commands as acp.AvailableCommandsUpdate).availableCommands.map((c) => c.name)).toEqual([
      "explain",
      "refactor",
      "generate_tests",
      "validate_spec",
    ]);
  });

  it("answers a refused key with auth_required (-32000) naming SEA_API_KEY, and stays up", async () => {
    const refused = agent({ SEA_API_KEY: "not-a-key" });
    await refused.initialize();
    const err = await errorOf(refused.agent.request("session/new", { cwd: CWD, mcpServers: [] }));
    expect(err.code).toBe(-32000);
    expect(err.message).toContain("SEA_API_KEY");
    // Still serving: the next request is answered too.
    const again = await errorOf(refused.agent.request("session/list", {}));
    expect(again.code).toBe(-32000);
    expect(refused.child.exitCode).toBeNull();
    const missing = agent({ SEA_API_KEY: "" });
    await missing.initialize();
    const none = await errorOf(missing.agent.request("session/new", { cwd: CWD, mcpServers: [] }));
    expect(none.code).toBe(-32000);
    expect(none.message).toContain("sea-gateway acp --login");
  });

  it("streams a text prompt's durable run as agent_message_chunks and ends the turn", async () => {
    const from = main.updates.length;
    const res = await main.agent.request("session/prompt", {
      sessionId,
      prompt: [{ type: "text", text: "hello durable world" }],
    });
    expect(res.stopReason).toBe("end_turn");
    const chunks = main
      .of(sessionId, from)
      .filter((u) => u.sessionUpdate === "agent_message_chunk");
    expect(chunks.length).toBeGreaterThan(1);
    expect(main.text(sessionId, "agent_message_chunk", from)).toBe("hello durable world");
    const runs = await gatewayRuns(sessionId);
    expect(runs.map((r) => r.status)).toEqual(["completed"]);
  });

  it("turns reasoning into agent_thought_chunks", async () => {
    const thinker = agent({ SEA_ACP_MODEL: "thinker" });
    await thinker.initialize();
    const { sessionId: id } = await thinker.agent.request("session/new", {
      cwd: CWD,
      mcpServers: [],
    });
    const res = await thinker.agent.request("session/prompt", {
      sessionId: id,
      prompt: [{ type: "text", text: "think first" }],
    });
    expect(res.stopReason).toBe("end_turn");
    expect(thinker.text(id, "agent_thought_chunk")).toBe("Let me think.");
    expect(thinker.text(id, "agent_message_chunk")).toBe("Hello from upstream.");
  });

  it("sends attached resources and resource links (read from the editor's buffer) to the run", async () => {
    const from = main.updates.length;
    main.files.set(SRC, `${SRC_TEXT}// UNSAVED-EDIT\n`);
    await main.agent.request("session/prompt", {
      sessionId,
      prompt: [
        { type: "text", text: "what do these do?" },
        { type: "resource", resource: { uri: `file://${CWD}/notes.md`, text: "RESOURCE-BODY" } },
        { type: "resource_link", uri: `file://${SRC}`, name: "add.ts" },
      ],
    });
    main.files.set(SRC, SRC_TEXT);
    const answer = main.text(sessionId, "agent_message_chunk", from);
    // Echo answers with the whole user message: the typed text and both files.
    expect(answer).toContain("what do these do?");
    expect(answer).toContain("RESOURCE-BODY");
    expect(answer).toContain("UNSAVED-EDIT");
    const run = (await gatewayRuns(sessionId)).at(-1)!;
    expect(run.request).toMatchObject({
      kind: "chat",
      message: {
        role: "user",
        content: [
          { type: "text", text: "what do these do?" },
          {
            type: "text",
            text: `<context ref="file://${CWD}/notes.md">\nRESOURCE-BODY\n</context>`,
          },
          { type: "text", text: expect.stringContaining("UNSAVED-EDIT") },
        ],
      },
    });
  });

  it("resumes a gateway stream that drops mid-answer instead of failing the turn", async () => {
    const words = Array.from({ length: 120 }, (_, i) => `w${i}`).join(" ");
    const from = main.updates.length;
    const accepted = proxy.accepted;
    const turn = main.agent.request("session/prompt", {
      sessionId,
      prompt: [{ type: "text", text: words }],
    });
    await eventually(() => main.text(sessionId, "agent_message_chunk", from).length > 20);
    proxy.cut();
    expect((await turn).stopReason).toBe("end_turn");
    // Every word once, in order: resumed from the last event seen, not restarted.
    expect(main.text(sessionId, "agent_message_chunk", from)).toBe(words);
    expect(proxy.accepted).toBeGreaterThan(accepted);
  });

  it("offers /generate_tests's new file for review and writes it only after an allow", async () => {
    const from = main.updates.length;
    main.permission = "allow_once";
    const writes = main.writes.length;
    const res = await main.agent.request("session/prompt", {
      sessionId,
      prompt: [
        { type: "text", text: "/generate_tests cover the sum" },
        { type: "resource_link", uri: `file://${SRC}#L2:2`, name: "add.ts (2:2)" },
      ],
    });
    expect(res.stopReason).toBe("end_turn");
    const call = main
      .of(sessionId, from)
      .find(
        (u): u is acp.ToolCall & { sessionUpdate: "tool_call" } => u.sessionUpdate === "tool_call",
      )!;
    const testFile = `${CWD}/src/add.test.ts`;
    expect(call).toMatchObject({
      kind: "edit",
      status: "pending",
      locations: [{ path: testFile, line: 1 }],
      content: [
        {
          type: "diff",
          path: testFile,
          oldText: null,
          newText: "// Tests for add.ts (echo)\n  return a + b;",
        },
      ],
    });
    expect(main.permissions.at(-1)).toMatchObject({
      sessionId,
      toolCall: { toolCallId: call.toolCallId },
    });
    expect(main.writes.slice(writes)).toEqual([
      { sessionId, path: testFile, content: "// Tests for add.ts (echo)\n  return a + b;" },
    ]);
    const last = main
      .of(sessionId, from)
      .filter((u) => u.sessionUpdate === "tool_call_update")
      .at(-1);
    expect(last).toMatchObject({ toolCallId: call.toolCallId, status: "completed" });
  });

  it("writes nothing when the user rejects /refactor's edit", async () => {
    const from = main.updates.length;
    main.permission = "reject_once";
    const writes = main.writes.length;
    await main.agent.request("session/prompt", {
      sessionId,
      prompt: [
        { type: "text", text: "/refactor inline it" },
        { type: "resource", resource: { uri: `file://${SRC}`, text: SRC_TEXT } },
      ],
    });
    main.permission = "allow_once";
    const call = main.of(sessionId, from).find((u) => u.sessionUpdate === "tool_call");
    expect(call).toMatchObject({
      kind: "edit",
      content: [{ type: "diff", path: SRC, oldText: SRC_TEXT, newText: SRC_TEXT }],
      locations: [{ path: SRC, line: 1 }],
    });
    expect(main.writes.length).toBe(writes);
    const last = main
      .of(sessionId, from)
      .filter((u) => u.sessionUpdate === "tool_call_update")
      .at(-1);
    expect(last).toMatchObject({ status: "failed" });
  });

  it("shows /validate_spec's diagnostics as a tool call with their lines", async () => {
    const from = main.updates.length;
    await main.agent.request("session/prompt", {
      sessionId,
      prompt: [
        { type: "text", text: "/validate_spec" },
        { type: "resource_link", uri: `file://${SPEC}`, name: "orders.md" },
      ],
    });
    const call = main.of(sessionId, from).find((u) => u.sessionUpdate === "tool_call");
    expect(call).toMatchObject({
      status: "completed",
      locations: [
        { path: SPEC, line: 2 },
        { path: SPEC, line: 4 },
      ],
      content: [
        {
          type: "content",
          content: {
            type: "text",
            text: "2: warning: TODO left in the document (todo)\n4: warning: TODO left in the document (todo)",
          },
        },
      ],
    });
  });

  it("session/cancel cancels the gateway run, sends nothing after, and answers cancelled", async () => {
    const words = Array.from({ length: 600 }, (_, i) => `slow${i}`).join(" ");
    const from = main.updates.length;
    const turn = main.agent.request("session/prompt", {
      sessionId,
      prompt: [{ type: "text", text: words }],
    });
    await eventually(() => main.text(sessionId, "agent_message_chunk", from).length > 0);
    await main.agent.notify("session/cancel", { sessionId });
    expect((await turn).stopReason).toBe("cancelled");
    const atCancel = main.updates.length;
    // The run itself is cancelled on the gateway (a dropped reader alone would keep it running).
    await eventually(async () => (await gatewayRuns(sessionId)).at(-1)!.status === "cancelled");
    // A whole further turn later, nothing of the cancelled one has arrived.
    await main.agent.request("session/prompt", {
      sessionId,
      prompt: [{ type: "text", text: "after the cancel" }],
    });
    expect(main.text(sessionId, "agent_message_chunk", atCancel)).toBe("after the cancel");
  });

  it("answers bad input with clear errors, never a crash", async () => {
    const image = await errorOf(
      main.agent.request("session/prompt", {
        sessionId,
        prompt: [{ type: "image", data: "aGk=", mimeType: "image/png" }],
      }),
    );
    expect(image.code).toBe(-32602);
    expect(image.message).toContain("image block");
    const missing = await errorOf(
      main.agent.request("session/prompt", {
        sessionId,
        prompt: [
          { type: "text", text: "read this" },
          { type: "resource_link", uri: `file://${CWD}/missing.ts`, name: "missing.ts" },
        ],
      }),
    );
    expect(missing.code).toBe(-32002);
    expect(missing.message).toContain(`${CWD}/missing.ts`);
    const unknown = await errorOf(
      main.agent.request("session/prompt", {
        sessionId: "no-such-session",
        prompt: [{ type: "text", text: "hi" }],
      }),
    );
    expect(unknown.code).toBe(-32002);
    expect(main.child.exitCode).toBeNull();
  });

  it("refuses an action the key may not run, naming the ones it may", async () => {
    const chatOnly = await mintKey(TEST_SECRET, { tenant: "acme", ttlSecs: 600, models: ["sea"] });
    const limited = agent({ SEA_API_KEY: chatOnly });
    await limited.initialize();
    const { sessionId: id } = await limited.agent.request("session/new", {
      cwd: CWD,
      mcpServers: [],
    });
    const err = await errorOf(
      limited.agent.request("session/prompt", {
        sessionId: id,
        prompt: [
          { type: "text", text: "/refactor" },
          { type: "resource_link", uri: `file://${SRC}`, name: "add.ts" },
        ],
      }),
    );
    expect(err.code).toBe(-32602);
    expect(err.message).toContain("/refactor is not an editor action this key may run");
  });

  it("reports a gateway that is down as a clear error and stays up", async () => {
    const down = agent({ SEA_GATEWAY_URL: "http://127.0.0.1:9" });
    await down.initialize();
    const err = await errorOf(down.agent.request("session/new", { cwd: CWD, mcpServers: [] }));
    expect(err.code).toBe(-32603);
    expect(err.message).toContain("is unreachable");
    expect(down.child.exitCode).toBeNull();
  });

  it("session/load replays the earlier turns in order, diffs included, in a fresh process", async () => {
    const fresh = agent();
    await fresh.initialize();
    await fresh.agent.request("session/load", { sessionId, cwd: CWD, mcpServers: [] });
    const replayed = fresh
      .of(sessionId)
      .filter((u) => u.sessionUpdate !== "available_commands_update");
    const users = replayed
      .filter((u) => u.sessionUpdate === "user_message_chunk")
      .map((u) => (u.content.type === "text" ? u.content.text : `[${u.content.type}]`));
    expect(users).toEqual([
      "hello durable world",
      "what do these do?",
      "[resource_link]",
      "[resource_link]",
      expect.stringMatching(/^w0 w1 /),
      "/generate_tests cover the sum",
      "[resource_link]",
      "/refactor inline it",
      "[resource_link]",
      "/validate_spec",
      "[resource_link]",
      expect.stringMatching(/^slow0 slow1 /),
      "after the cancel",
    ]);
    expect(replayed[0]).toEqual({
      sessionUpdate: "user_message_chunk",
      content: { type: "text", text: "hello durable world" },
    });
    expect(replayed[1]).toEqual({
      sessionUpdate: "agent_message_chunk",
      content: { type: "text", text: "hello durable world" },
    });
    const diff = replayed.find(
      (u) =>
        u.sessionUpdate === "tool_call" &&
        u.kind === "edit" &&
        u.title.startsWith("generate_tests"),
    );
    expect(diff).toMatchObject({
      content: [
        {
          type: "diff",
          path: `${CWD}/src/add.test.ts`,
          oldText: null,
          newText: "// Tests for add.ts (echo)\n  return a + b;",
        },
      ],
    });
    // The loaded session goes on with its history.
    const res = await fresh.agent.request("session/prompt", {
      sessionId,
      prompt: [{ type: "text", text: "still here" }],
    });
    expect(res.stopReason).toBe("end_turn");
  });

  it("session/list shows the sessions of a cwd with their titles", async () => {
    const list = await main.agent.request("session/list", { cwd: CWD });
    const mine = list.sessions.find((s) => s.sessionId === sessionId);
    expect(mine).toMatchObject({ cwd: CWD, title: "hello durable world" });
    const elsewhere = await main.agent.request("session/list", { cwd: "/elsewhere" });
    expect(elsewhere.sessions).toEqual([]);
  });

  it("keeps a --login (0600) that a later agent without env uses", async () => {
    const home = await mkdtemp(join(tmpdir(), "acp-login-"));
    const login = await runCli(
      ["acp", "--login"],
      { XDG_CONFIG_HOME: home },
      {
        stdin: true,
        input: `${system.baseURL}\n${system.apiKey}\n`,
      },
    );
    expect(login.code).toBe(0);
    const file = join(home, "sea-gateway", "acp-login.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({
      gatewayUrl: system.baseURL.replace(/\/v1$/, ""),
      apiKey: system.apiKey,
    });
    const bad = await runCli(
      ["acp", "--login"],
      { XDG_CONFIG_HOME: home },
      {
        stdin: true,
        input: `${system.baseURL}\nnot-a-key\n`,
      },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("did not accept the key");
    const stored = agent({ XDG_CONFIG_HOME: home, SEA_API_KEY: "", SEA_GATEWAY_URL: "" });
    await stored.initialize();
    const { sessionId: id } = await stored.agent.request("session/new", {
      cwd: CWD,
      mcpServers: [],
    });
    expect(id).toBeTruthy();
  });

  it("writes nothing but protocol on stdout, and exits cleanly on stdin EOF", async () => {
    for (const a of agents) {
      expect(a.stdoutLines.length).toBeGreaterThan(0);
      for (const line of a.stdoutLines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" });
    }
    for (const a of agents) expect(await a.close()).toBe(0);
  });
});
