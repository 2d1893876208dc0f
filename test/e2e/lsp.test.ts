import { readFileSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import {
  ApplyWorkspaceEditRequest,
  CodeActionRequest,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DidSaveTextDocumentNotification,
  ExecuteCommandRequest,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShowMessageNotification,
  ShutdownRequest,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ApplyWorkspaceEditParams,
  type CodeAction,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type ShowMessageParams,
} from "vscode-languageserver-protocol/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contextHandlers } from "../../bin/handlers.js";
import { spawnCli } from "../helpers/cli.js";
import { createTestWorld, eventually } from "../helpers/env.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

const world = createTestWorld("lsp");
let system: TestSystem;
let child: ChildProcess;
let lsp: ProtocolConnection;
const edits: ApplyWorkspaceEditParams[] = [];
const diagnostics: PublishDiagnosticsParams[] = [];
const messages: ShowMessageParams[] = [];
const progress: { token: string | number; value: { kind: string; message?: string } }[] = [];

const SRC = "file:///work/app/src/add.ts";
const SPEC = "file:///work/app/specs/orders.md";
const at = (line: number, character: number) => ({ line, character });

beforeAll(async () => {
  // A reader that leaves does not stop a stream for a while: only an explicit cancel does.
  system = await startTestSystem(world, testCatalog(), { STREAM_CANCEL_GRACE_MS: "30000" });
  // Echo pauses between words, so a long answer can be cancelled while it streams.
  await system.startWorkers(contextHandlers(world.config({ ECHO_DELAY_MS: "5" }), "sea"));
  child = spawnCli(
    ["lsp"],
    {
      SEA_GATEWAY_URL: system.baseURL,
      SEA_API_KEY: system.apiKey,
      SEA_LSP_VALIDATE_LANGUAGES: "markdown",
      LOG_LEVEL: "warn",
    },
    { stdin: true },
  );
  lsp = createProtocolConnection(
    new StreamMessageReader(child.stdout!),
    new StreamMessageWriter(child.stdin!),
  );
  lsp.onRequest(ApplyWorkspaceEditRequest.type, (p) => {
    edits.push(p);
    return { applied: true };
  });
  lsp.onRequest(WorkDoneProgressCreateRequest.type, () => undefined);
  lsp.onNotification("$/progress", (p: (typeof progress)[number]) => {
    progress.push(p);
  });
  lsp.onNotification(PublishDiagnosticsNotification.type, (p) => {
    diagnostics.push(p);
  });
  lsp.onNotification(ShowMessageNotification.type, (p) => {
    messages.push(p);
  });
  child.stderr!.on("data", (d: Buffer) => process.stderr.write(`[lsp] ${d.toString()}`));
  lsp.listen();
});

afterAll(async () => {
  if (lsp) {
    await lsp.sendRequest(ShutdownRequest.type).catch(() => undefined);
    await lsp.sendNotification(ExitNotification.type).catch(() => undefined);
    lsp.dispose();
  }
  if (child && child.exitCode === null) {
    await new Promise((r) => child.once("exit", r));
  }
  await system?.stop();
  await world.cleanup();
});

describe("sea-gateway lsp with a real LSP client over stdio", () => {
  it("initializes with code actions and the run command", async () => {
    const init = await lsp.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: "file:///work/app",
      capabilities: {
        workspace: {
          applyEdit: true,
          workspaceEdit: { documentChanges: true, resourceOperations: ["create"] },
        },
        window: { workDoneProgress: true },
      },
    });
    expect(init.capabilities.executeCommandProvider?.commands).toEqual(["sea.runAction"]);
    const pkg = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as {
      version: string;
    };
    expect(init.serverInfo).toEqual({ name: "sea-gateway", version: pkg.version });
    expect(init.capabilities.codeActionProvider).toBeTruthy();
    await lsp.sendNotification(InitializedNotification.type, {});
    await lsp.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: {
        uri: SRC,
        languageId: "typescript",
        version: 1,
        text: "export function add(a: number, b: number) {\n  return a + b; // 😀 漢字\n}\n",
      },
    });
  });

  it("offers one code action per action on a selection, and only the kinds asked for", async () => {
    const all = (await lsp.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: SRC },
      range: { start: at(1, 2), end: at(1, 15) },
      context: { diagnostics: [] },
    })) as CodeAction[];
    expect(all.map((a) => a.title)).toEqual([
      "SEA: explain (selection)",
      "SEA: refactor (selection)",
      "SEA: generate tests (selection)",
      "SEA: validate spec (selection)",
    ]);
    expect(all[1]).toMatchObject({
      kind: "refactor.rewrite",
      command: { command: "sea.runAction", arguments: [{ action: "refactor", uri: SRC }] },
    });
    const refactors = (await lsp.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: SRC },
      range: { start: at(1, 2), end: at(1, 15) },
      context: { diagnostics: [], only: ["refactor"] },
    })) as CodeAction[];
    expect(refactors.map((a) => a.title)).toEqual(["SEA: refactor (selection)"]);
  });

  it("runs an action with work-done progress and applies its edit through workspace/applyEdit", async () => {
    // The selection ends after the emoji and the CJK characters (UTF-16 units).
    const range = { start: at(1, 2), end: at(1, 24) };
    const before = edits.length;
    await lsp.sendRequest(ExecuteCommandRequest.type, {
      command: "sea.runAction",
      arguments: [{ action: "refactor", uri: SRC, range }],
    });
    expect(edits.length).toBe(before + 1);
    expect(edits.at(-1)!.edit).toEqual({
      documentChanges: [
        {
          textDocument: { uri: SRC, version: 1 },
          edits: [{ range, newText: "return a + b; // 😀 漢字" }],
        },
      ],
    });
    const kinds = progress.map((p) => p.value.kind);
    expect(kinds[0]).toBe("begin");
    expect(kinds).toContain("report");
    expect(kinds.at(-1)).toBe("end");
  });

  // Neovim's `V` sends a line selection's end one past the line; other clients send far more.
  // LSP: a character beyond the line's length falls back to the line's length.
  it.each([
    ["one past the line (Neovim's V)", 25],
    ["far past the line", 200],
  ])("clamps a range ending %s to the line's end", async (_, character) => {
    const line = { start: at(1, 0), end: at(1, 24) };
    const offered = (await lsp.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: SRC },
      range: { start: at(1, 0), end: at(1, character) },
      context: { diagnostics: [], only: ["refactor"] },
    })) as CodeAction[];
    expect(offered[0]!.command!.arguments).toEqual([{ action: "refactor", uri: SRC, range: line }]);
    const before = edits.length;
    const failures = messages.length;
    await lsp.sendRequest(ExecuteCommandRequest.type, {
      command: "sea.runAction",
      arguments: [
        { action: "refactor", uri: SRC, range: { start: at(1, 0), end: at(1, character) } },
      ],
    });
    expect(messages.slice(failures)).toEqual([]);
    expect(edits.length).toBe(before + 1);
    expect(edits.at(-1)!.edit.documentChanges).toEqual([
      {
        textDocument: { uri: SRC, version: 1 },
        edits: [{ range: line, newText: "  return a + b; // 😀 漢字" }],
      },
    ]);
  });

  it("creates the generated test file next to the source", async () => {
    await lsp.sendRequest(ExecuteCommandRequest.type, {
      command: "sea.runAction",
      arguments: [
        { action: "generate_tests", uri: SRC, range: { start: at(0, 0), end: at(0, 0) } },
      ],
    });
    const changes = edits.at(-1)!.edit.documentChanges!;
    expect(changes[0]).toEqual({
      kind: "create",
      uri: "file:///work/app/src/add.test.ts",
      options: { ignoreIfExists: true },
    });
    expect(changes[1]).toMatchObject({
      textDocument: { uri: "file:///work/app/src/add.test.ts", version: null },
      edits: [{ range: { start: at(0, 0), end: at(0, 0) } }],
    });
  });

  it("shows explain's answer as a message", async () => {
    await lsp.sendRequest(ExecuteCommandRequest.type, {
      command: "sea.runAction",
      arguments: [{ action: "explain", uri: SRC, range: { start: at(1, 2), end: at(1, 15) } }],
    });
    expect(messages.at(-1)!.message).toBe(
      "explain: typescript in /work/app/src/add.ts, line 2: return a + b;",
    );
  });

  it("cancelling the work-done progress cancels the action on the gateway", async () => {
    const uri = "file:///work/app/long.txt";
    const text = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");
    await lsp.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: "plaintext", version: 1, text },
    });
    const seen = progress.length;
    const messagesBefore = messages.length;
    const run = lsp.sendRequest(ExecuteCommandRequest.type, {
      command: "sea.runAction",
      arguments: [{ action: "explain", uri, range: { start: at(0, 0), end: at(0, 0) } }],
    });
    const report = await eventually(
      () => progress.slice(seen).find((p) => p.value.kind === "report"),
      10_000,
      "a progress report",
    );
    await lsp.sendNotification(WorkDoneProgressCancelNotification.type, { token: report.token });
    expect(await run).toBeNull();
    expect(progress.slice(seen).at(-1)!.value.kind).toBe("end");
    // No answer was shown, and the gateway recorded the cancel of the action's stream.
    expect(messages.slice(messagesBefore)).toEqual([]);
    const cancelled = await eventually(
      async () =>
        (
          await system.runtime.pools.sea.query<{ reason: string }>(
            `SELECT c.payload->'payload'->>'reason' AS reason
               FROM outbox_events c JOIN outbox_events a ON a.aggregate_id = c.aggregate_id
              WHERE c.event_type = 'chat_cancel' AND a.event_type = 'editor_action'
                AND a.payload->'payload'->'input'->>'path' = '/work/app/long.txt'`,
          )
        ).rows[0],
      10_000,
      "the cancel command",
    );
    expect(cancelled.reason).toBe("cancelled by the client");
  });

  it("publishes validate_spec diagnostics on open and clears them once fixed and saved", async () => {
    const text = "# Orders\n- 😀 TODO refunds\nShip in 2 days.\n";
    await lsp.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: SPEC, languageId: "markdown", version: 1, text },
    });
    const published = await eventually(
      () => diagnostics.find((d) => d.uri === SPEC),
      10_000,
      "diagnostics",
    );
    expect(published.diagnostics).toEqual([
      {
        range: { start: at(1, 5), end: at(1, 9) },
        severity: 2,
        message: "TODO left in the document",
        source: "sea",
        code: "todo",
      },
    ]);
    const before = diagnostics.length;
    await lsp.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: SPEC, version: 2 },
      contentChanges: [{ range: { start: at(1, 5), end: at(1, 10) }, text: "" }],
    });
    await lsp.sendNotification(DidSaveTextDocumentNotification.type, {
      textDocument: { uri: SPEC },
    });
    const cleared = await eventually(
      () => diagnostics.slice(before).find((d) => d.uri === SPEC),
      10_000,
      "cleared diagnostics",
    );
    expect(cleared).toMatchObject({ uri: SPEC, version: 2, diagnostics: [] });
  });
});
