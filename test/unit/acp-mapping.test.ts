import { describe, expect, it } from "vitest";
import type { ConversationRun } from "../../contracts/index.js";
import { applyEdits, diagnosticsToolCall, fileChange } from "../../src/acp/action-tool-calls.js";
import { splitUserMessage, titleOf, userMessage } from "../../src/acp/context-envelope.js";
import { languageOf, parseFileMention } from "../../src/acp/file-mentions.js";
import { parsePrompt, STOP_REASONS } from "../../src/acp/prompt-content.js";
import { replayRuns } from "../../src/acp/replay.js";
import { cwdOf, systemMessage } from "../../src/acp/session.js";

const at = (line: number, character: number) => ({ line, character });

describe("ACP mapping: mentions, prompts, context, edits, replay", () => {
  it("reads Zed's mentions: a file, a selection, a symbol; other schemes are not files", () => {
    expect(parseFileMention("file:///work/a%20b.ts")).toEqual({ path: "/work/a b.ts" });
    expect(parseFileMention("file:///work/a.ts#L3:7")).toEqual({
      path: "/work/a.ts",
      lines: { start: 3, end: 7 },
    });
    expect(parseFileMention("file:///work/a.ts?symbol=add#L2:4")).toEqual({
      path: "/work/a.ts",
      lines: { start: 2, end: 4 },
    });
    expect(parseFileMention("file:///work/a.ts#L5")).toEqual({
      path: "/work/a.ts",
      lines: { start: 5, end: 5 },
    });
    expect(parseFileMention("zed:///agent/thread/1")).toBeNull();
    expect(parseFileMention("not a uri")).toBeNull();
    expect(languageOf("/x/y.PY")).toBe("python");
    expect(languageOf("/x/Makefile")).toBe("plaintext");
  });

  it("takes a prompt apart: typed text, attachments, the slash command", () => {
    const p = parsePrompt([
      { type: "text", text: "/refactor  extract a function" },
      { type: "resource_link", uri: "file:///w/a.ts#L1:2", name: "a.ts" },
      { type: "resource", resource: { uri: "file:///w/b.md", text: "B" } },
    ]);
    expect(p.command).toEqual({ name: "refactor", rest: "extract a function" });
    expect(p.attachments).toEqual([
      { uri: "file:///w/a.ts#L1:2", mention: { path: "/w/a.ts", lines: { start: 1, end: 2 } } },
      { uri: "file:///w/b.md", mention: { path: "/w/b.md" }, text: "B" },
    ]);
    expect(parsePrompt([{ type: "text", text: "/etc/hosts is odd" }]).command).toBeNull();
  });

  it("refuses what initialize did not advertise, naming the block", () => {
    expect(() => parsePrompt([{ type: "image", data: "", mimeType: "image/png" }])).toThrow(
      /prompt\[0\] is an image block/,
    );
    expect(() =>
      parsePrompt([
        { type: "text", text: "x" },
        { type: "resource", resource: { uri: "file:///w/x.bin", blob: "AAAA" } },
      ]),
    ).toThrow(/prompt\[1\] is a binary resource/);
    expect(STOP_REASONS.length).toBe("max_tokens");
    expect(STOP_REASONS.content_filter).toBe("refusal");
  });

  it("keeps what the user typed apart from what was attached, through a round trip", () => {
    const m = userMessage('say "hi"', [{ uri: 'file:///w/a"b.ts', text: "code\n</context>" }]);
    expect(splitUserMessage(m)).toEqual({ typed: 'say "hi"', refs: ['file:///w/a"b.ts'] });
    expect(splitUserMessage({ role: "user", content: "plain" })).toEqual({
      typed: "plain",
      refs: [],
    });
    expect(splitUserMessage(userMessage("", [{ uri: "file:///w/a.ts", text: "x" }]))).toEqual({
      typed: "",
      refs: ["file:///w/a.ts"],
    });
    expect(titleOf('fix this<context ref="file:///w/a.ts">\nx')).toBe("fix this");
    expect(titleOf('<context ref="file:///w/a.ts#L1:2">\nx')).toBe("a.ts");
    expect(cwdOf(systemMessage("/w/app").content as string)).toBe("/w/app");
  });

  it("applies edits as LSP does (ranges of the original text), in any order", () => {
    const text = "one\ntwo 😀\nthree\n";
    const edits = [
      { path: "/f", range: { start: at(2, 0), end: at(2, 5) }, replacement: "3" },
      { path: "/f", range: { start: at(0, 0), end: at(0, 3) }, replacement: "1" },
      { path: "/f", range: { start: at(1, 4), end: at(1, 6) }, replacement: "🙂" },
    ];
    expect(applyEdits(text, edits)).toBe("1\ntwo 🙂\n3\n");
    expect(fileChange("/f", edits, text)).toMatchObject({ line: 1, oldText: text });
    expect(
      fileChange(
        "/new",
        [{ path: "/new", range: { start: at(0, 0), end: at(0, 0) }, replacement: "x" }],
        null,
      ),
    ).toEqual({ path: "/new", oldText: null, newText: "x", line: 1 });
  });

  it("lists diagnostics with their lines and locations", () => {
    const call = diagnosticsToolCall("d", "t", "/s.md", [
      { range: { start: at(4, 0), end: at(4, 1) }, severity: "error", message: "bad" },
    ]);
    expect(call).toMatchObject({
      content: [{ type: "content", content: { type: "text", text: "5: error: bad" } }],
      locations: [{ path: "/s.md", line: 5 }],
    });
  });

  it("replays chat and action runs in order, with diffs rebuilt from the action's input", () => {
    const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
    const base = { object: "conversation.run" as const, model: "sea", created: 1, error: null };
    const runs: ConversationRun[] = [
      {
        ...base,
        id: "chatcmpl-a",
        stream_id: "a",
        status: "completed",
        request: {
          kind: "chat",
          message: userMessage("why?", [{ uri: "file:///w/a.ts", text: "x" }]),
        },
        result: {
          message: { role: "assistant", content: "because", reasoning_content: "hmm" },
          finish_reason: "stop",
          usage,
        },
      },
      {
        ...base,
        id: "chatcmpl-b",
        stream_id: "b",
        status: "completed",
        request: {
          kind: "action",
          action: "refactor",
          input: {
            path: "/w/a.ts",
            language: "typescript",
            content: "let a=1\n",
            instruction: "tidy",
          },
        },
        result: {
          message: { role: "assistant", content: "done" },
          finish_reason: "stop",
          usage,
          edits: [
            {
              path: "/w/a.ts",
              range: { start: at(0, 0), end: at(0, 7) },
              replacement: "let a = 1;",
            },
          ],
          diagnostics: [],
        },
      },
      {
        ...base,
        id: "chatcmpl-c",
        stream_id: "c",
        status: "cancelled",
        request: { kind: "chat", message: { role: "user", content: "long" } },
        result: null,
        error: { message: "cancelled by the client", code: "cancelled" },
      },
    ];
    const { updates, history } = replayRuns(runs, new Map([["chatcmpl-c", "lo"]]));
    expect(updates.map((u) => u.sessionUpdate)).toEqual([
      "user_message_chunk",
      "user_message_chunk",
      "agent_thought_chunk",
      "agent_message_chunk",
      "user_message_chunk",
      "user_message_chunk",
      "agent_message_chunk",
      "tool_call",
      "user_message_chunk",
      "agent_message_chunk",
    ]);
    expect(updates[1]).toMatchObject({
      content: { type: "resource_link", uri: "file:///w/a.ts", name: "a.ts" },
    });
    expect(updates[4]).toMatchObject({ content: { type: "text", text: "/refactor tidy" } });
    expect(updates[7]).toMatchObject({
      kind: "edit",
      status: "completed",
      content: [{ type: "diff", path: "/w/a.ts", oldText: "let a=1\n", newText: "let a = 1;\n" }],
    });
    expect(updates[9]).toMatchObject({
      content: { text: "lo\n\n(cancelled: cancelled by the client)" },
    });
    expect(history.map((m) => m.role)).toEqual([
      "user",
      "assistant",
      "user",
      "assistant",
      "user",
      "assistant",
    ]);
  });
});

describe("loadAcpConfig", () => {
  it("reads the env, keeps the login in the config dir, starts without a key", async () => {
    const { loadAcpConfig } = await import("../../src/config.js");
    expect(loadAcpConfig({ HOME: "/home/u" })).toMatchObject({
      gatewayUrl: undefined,
      apiKey: undefined,
      model: "sea",
      credentialsFile: "/home/u/.config/sea-gateway/acp-login.json",
    });
    expect(
      loadAcpConfig({
        SEA_GATEWAY_URL: "http://g:8080/v1/",
        SEA_API_KEY: " k ",
        XDG_CONFIG_HOME: "/cfg",
      }),
    ).toMatchObject({
      gatewayUrl: "http://g:8080",
      apiKey: "k",
      credentialsFile: "/cfg/sea-gateway/acp-login.json",
    });
    expect(() => loadAcpConfig({ SEA_GATEWAY_URL: "ftp://x" })).toThrow(/SEA_GATEWAY_URL/);
  });
});
