import { TextDocument } from "vscode-languageserver-textdocument";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EditorActionInfo } from "../../contracts/index.js";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { contextHandlers } from "../../bin/handlers.js";
import { TEST_SECRET, createTestWorld } from "../helpers/env.js";
import { MockHandlerService } from "../helpers/mock-handler-service.js";
import { MockUpstream } from "../helpers/mock-upstream.js";
import { sseNamedEvents, type ActionEventData } from "../helpers/sse.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

const world = createTestWorld("editor");
const upstream = new MockUpstream();
const service = new MockHandlerService();
let system: TestSystem;

/** Model-backed actions next to the built-in (echo) ones. */
const llmAction = (id: string, context: "sea" | "vibespro", output: string, model: string) => ({
  id,
  kind: "action",
  context,
  handler: "openai",
  upstream_model: model,
  output,
  description: `${id} through the upstream model`,
});

beforeAll(async () => {
  await Promise.all([upstream.start(), service.start()]);
  const env = { UPSTREAM_OPENAI_BASE_URL: upstream.baseUrl, SEA_HANDLER_URL: service.url };
  system = await startTestSystem(
    world,
    testCatalog([
      llmAction("refactor_llm", "sea", "edit_selection", "code-block"),
      // A model that answers prose, never a code block.
      llmAction("refactor_prose", "sea", "edit_selection", "text"),
      llmAction("tests_llm", "vibespro", "test_file", "code-block"),
      llmAction("review_llm", "sea", "diagnostics", "diagnostics"),
      {
        id: "review_svc",
        kind: "action",
        context: "sea",
        handler: "http",
        output: "diagnostics",
        requires: ["selection"],
        description: "Review by the SEA handler service",
      },
    ]),
    env,
  );
  // One worker runtime for both contexts (echo, openai and http registered in each); echo
  // pauses a little between words, so a long answer can be cancelled while it streams.
  await system.startWorkers(contextHandlers(world.config({ ...env, ECHO_DELAY_MS: "3" }), "sea"));
});

afterAll(async () => {
  await system?.stop();
  await Promise.all([upstream.stop(), service.stop()]);
  await world.cleanup();
});

const SPEC = ["# Orders", "TODO: define refunds", "Orders ship in 2 days.", "- TODO owner"].join(
  "\n",
);

async function post(name: string, body: object, headers: Record<string, string> = {}) {
  return fetch(`${system.baseURL}/editor/actions/${name}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${system.apiKey}`,
      "content-type": "application/json",
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

async function runJson(name: string, body: object) {
  const r = await post(name, body);
  const json = (await r.json()) as ActionEventData;
  expect(r.status, JSON.stringify(json)).toBe(200);
  return json;
}

async function runStreamed(name: string, body: object, headers: Record<string, string> = {}) {
  const r = await post(name, { ...body, stream: true }, headers);
  expect(r.headers.get("content-type")).toContain("text/event-stream");
  return { events: sseNamedEvents(await r.text()), streamId: r.headers.get("x-stream-id")! };
}

const at = (line: number, character: number) => ({ line, character });

describe("GET /v1/editor/actions", () => {
  it("lists the built-in actions with their input schema and context", async () => {
    const r = await fetch(`${system.baseURL}/editor/actions`, {
      headers: { authorization: `Bearer ${system.apiKey}` },
    });
    const body = (await r.json()) as { object: string; data: EditorActionInfo[] };
    expect(body.object).toBe("list");
    const byName = Object.fromEntries(body.data.map((a) => [a.name, a]));
    expect(byName.explain).toMatchObject({ context: "sea", output: "text" });
    expect(byName.refactor).toMatchObject({ context: "sea", output: "edit_selection" });
    expect(byName.generate_tests).toMatchObject({ context: "vibespro", output: "test_file" });
    expect(byName.validate_spec).toMatchObject({ context: "sea", output: "diagnostics" });
    expect(byName.refactor!.input_schema).toMatchObject({
      type: "object",
      required: ["path", "language", "content"],
      properties: { selection: { type: "object" }, instruction: { type: "string" } },
    });
    expect(byName.review_svc!.input_schema.required).toEqual([
      "path",
      "language",
      "content",
      "selection",
    ]);
  });

  it("shows a key only its allowed actions; actions are not chat models", async () => {
    const key = await mintKey(TEST_SECRET, {
      tenant: "acme",
      ttlSecs: 600,
      models: ["explain", "sea"],
    });
    const auth = { authorization: `Bearer ${key}` };
    const list = (await (
      await fetch(`${system.baseURL}/editor/actions`, { headers: auth })
    ).json()) as {
      data: { name: string }[];
    };
    expect(list.data.map((a) => a.name)).toEqual(["explain"]);
    const denied = await fetch(`${system.baseURL}/editor/actions/refactor`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ path: "a.ts", language: "typescript", content: "x" }),
    });
    expect(denied.status).toBe(404);
    const models = (await (
      await fetch(`${system.baseURL}/models`, {
        headers: { authorization: `Bearer ${system.apiKey}` },
      })
    ).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).not.toContain("explain");
    const chat = await fetch(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${system.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "refactor", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(chat.status).toBe(404);
  });
});

describe("built-in actions through the worker with echo", () => {
  const code = "function add(a, b) {\n  return a + b;\n}\n";
  const cases = [
    {
      name: "explain",
      body: {
        path: "src/add.js",
        language: "javascript",
        content: code,
        selection: { start: at(1, 2), end: at(1, 15) },
      },
      check: (r: ActionEventData) => {
        expect(r.text).toBe("explain: javascript in src/add.js, line 2: return a + b;");
        expect(r.edits).toEqual([]);
      },
    },
    {
      name: "refactor",
      body: {
        path: "src/add.js",
        language: "javascript",
        content: code,
        selection: { start: at(0, 9), end: at(2, 1) },
      },
      check: (r: ActionEventData) =>
        expect(r.edits).toEqual([
          {
            path: "src/add.js",
            range: { start: at(0, 9), end: at(2, 1) },
            replacement: "add(a, b) {\n  return a + b;\n}",
          },
        ]),
    },
    {
      name: "generate_tests",
      body: {
        path: "pkg/add.py",
        language: "python",
        content: "def add(a, b):\n    return a + b\n",
      },
      check: (r: ActionEventData) =>
        expect(r.edits).toEqual([
          {
            path: "pkg/test_add.py",
            range: { start: at(0, 0), end: at(0, 0) },
            replacement: "# Tests for add.py (echo)\ndef add(a, b):\n    return a + b\n",
          },
        ]),
    },
    {
      name: "validate_spec",
      body: { path: "specs/orders.md", language: "markdown", content: SPEC },
      check: (r: ActionEventData) =>
        expect(r.diagnostics).toEqual([
          {
            range: { start: at(1, 0), end: at(1, 4) },
            severity: "warning",
            message: "TODO left in the document",
            code: "todo",
          },
          {
            range: { start: at(3, 2), end: at(3, 6) },
            severity: "warning",
            message: "TODO left in the document",
            code: "todo",
          },
        ]),
    },
  ];

  it.each(cases)("$name as one JSON result", async ({ name, body, check }) => {
    const r = await runJson(name, body);
    expect(r).toMatchObject({ object: "editor.action.result", action: name });
    expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.usage!.total_tokens).toBeGreaterThan(0);
    check(r);
  });

  it.each(cases)(
    "$name streamed: text, edit and diagnostic events with ids, then done",
    async ({ name, body, check }) => {
      const { events } = await runStreamed(name, body);
      const done = events.at(-1)!;
      expect(done.event).toBe("done");
      check(done.data);
      const deltas = events.slice(0, -1);
      expect(
        deltas.map((e) => e.event).every((e) => ["text", "edit", "diagnostic"].includes(e)),
      ).toBe(true);
      // `id:` is the delta's seq: 1, 2, … (events of one delta share it).
      expect(deltas.map((e) => e.id)).toEqual([...deltas.map((e) => e.id)].sort((a, b) => a! - b!));
      expect(deltas[0]!.id).toBe(1);
      expect(
        deltas
          .filter((e) => e.event === "text")
          .map((e) => e.data.text)
          .join(""),
      ).toBe(done.data.text);
      expect(deltas.filter((e) => e.event === "edit").map((e) => e.data)).toEqual(done.data.edits);
      expect(deltas.filter((e) => e.event === "diagnostic").map((e) => e.data)).toEqual(
        done.data.diagnostics,
      );
    },
  );

  it("resumes a stream after Last-Event-ID and refuses another tenant", async () => {
    const body = { path: "specs/orders.md", language: "markdown", content: SPEC };
    const first = await runStreamed("validate_spec", body);
    const lastText = first.events.filter((e) => e.event === "text").at(-1)!.id!;
    const r = await fetch(`${system.baseURL}/editor/streams/${first.streamId}/events`, {
      headers: { authorization: `Bearer ${system.apiKey}`, "last-event-id": String(lastText) },
    });
    const resumed = sseNamedEvents(await r.text());
    expect(resumed.map((e) => e.event)).toEqual(["diagnostic", "diagnostic", "done"]);
    expect(resumed[0]!.id).toBe(lastText + 1);
    expect(resumed.at(-1)!.data).toEqual(first.events.at(-1)!.data);
    const other = await mintKey(TEST_SECRET, { tenant: "other", ttlSecs: 600 });
    const foreign = await fetch(`${system.baseURL}/editor/streams/${first.streamId}/events`, {
      headers: { authorization: `Bearer ${other}` },
    });
    expect(foreign.status).toBe(404);
  });

  it("attaches a retry with the same Idempotency-Key to the same stream and command", async () => {
    const body = { path: "a.md", language: "markdown", content: "TODO once" };
    const key = { "idempotency-key": `edit-${Date.now()}` };
    const before = await system.outboxCount("editor_action");
    const a = await runStreamed("validate_spec", body, key);
    const b = await runStreamed("validate_spec", body, key);
    expect(b.streamId).toBe(a.streamId);
    expect(b.events.at(-1)!.data).toEqual(a.events.at(-1)!.data);
    expect(await system.outboxCount("editor_action")).toBe(before + 1);
    const other = await post("validate_spec", { ...body, content: "changed" }, key);
    expect(other.status).toBe(422);
  });
});

describe("cancelling an action stream", () => {
  it("POST /v1/editor/streams/{id}/cancel stops it: the stream ends with a cancelled error event", async () => {
    const content = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");
    const r = await post("explain", {
      path: "long.txt",
      language: "plaintext",
      content,
      stream: true,
    });
    const streamId = r.headers.get("x-stream-id")!;
    const reader = r.body!.getReader();
    await reader.read(); // the first event is out: the action is running
    const cancel = await fetch(`${system.baseURL}/editor/streams/${streamId}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${system.apiKey}` },
    });
    expect(((await cancel.json()) as { status: string }).status).toBe("cancelled");
    let rest = "";
    for (let c = await reader.read(); !c.done; c = await reader.read())
      rest += new TextDecoder().decode(c.value);
    const last = sseNamedEvents(rest).at(-1)!;
    expect(last.event).toBe("error");
    expect(last.data.error).toMatchObject({ code: "cancelled" });
  });
});

describe("UTF-16 positions with non-ASCII text", () => {
  // "😀" is two UTF-16 code units, "漢字" two units of one each.
  const content = 'const s = "😀漢字";\n// 😀 TODO: 漢字 TODO\nok\n';

  it("a selection counted in UTF-16 units selects exactly those characters", async () => {
    const doc = TextDocument.create("file:///a.ts", "typescript", 1, content);
    const selection = { start: at(0, 11), end: at(0, 15) };
    expect(doc.getText(selection)).toBe("😀漢字");
    const r = await runJson("refactor", {
      path: "a.ts",
      language: "typescript",
      content,
      selection,
    });
    expect(r.edits).toEqual([{ path: "a.ts", range: selection, replacement: "😀漢字" }]);
  });

  it("diagnostics point at the right characters after emoji and CJK", async () => {
    const doc = TextDocument.create("file:///s.md", "markdown", 1, content);
    const r = await runJson("validate_spec", { path: "s.md", language: "markdown", content });
    expect(r.diagnostics!.map((d) => d.range)).toEqual([{ start: at(1, 6), end: at(1, 10) }]);
    expect(doc.getText(r.diagnostics![0]!.range)).toBe("TODO");
  });

  it("a selection ending one past its line (Neovim's V) ends at the line's end", async () => {
    // Line 1 has 19 units; Neovim sends a line selection's end as character 20.
    const r = await runJson("refactor", {
      path: "a.ts",
      language: "typescript",
      content,
      selection: { start: at(1, 0), end: at(1, 20) },
    });
    const line = { start: at(1, 0), end: at(1, 19) };
    expect(r.edits).toEqual([{ path: "a.ts", range: line, replacement: "// 😀 TODO: 漢字 TODO" }]);
  });

  it("a position further past a line is refused, saying how long the line is", async () => {
    // Line 2 ("ok") has 2 units; line 0 has 18 (16 code points).
    const r = await post("explain", {
      path: "a.ts",
      language: "typescript",
      content,
      selection: { start: at(2, 0), end: at(2, 4) },
    });
    expect(r.status).toBe(400);
    const { error } = (await r.json()) as { error: { param: string; message: string } };
    expect(error.param).toBe("selection.end");
    expect(error.message).toBe(
      "selection.end (line 2, character 4) is outside the document: line 2 has 2 characters " +
        "(characters count UTF-16 code units).",
    );
    const past = await post("explain", {
      path: "a.ts",
      language: "typescript",
      content,
      selection: { start: at(2, 0), end: at(9, 0) },
    });
    expect(((await past.json()) as { error: { message: string } }).error.message).toContain(
      "the document has 4 lines (0 to 3)",
    );
  });
});

describe("invalid input", () => {
  const good = { path: "a.ts", language: "typescript", content: "let a = 1;" };
  it.each([
    ["content", { path: "a.ts", language: "typescript" }],
    ["language", { ...good, language: "" }],
    ["selection.start.line", { ...good, selection: { start: at(-1, 0), end: at(0, 1) } }],
    ["selection.end", { ...good, selection: { start: at(0, 0), end: at(0, 12) } }],
    ["selection", { ...good, selection: { start: at(0, 5), end: at(0, 1) } }],
    ["stream", { ...good, stream: "yes" }],
    ["selection", { path: "a.ts", language: "typescript", content: "x" }, "review_svc"],
  ])("400 naming %s, and no command written", async (param, body, name = "explain") => {
    const before = await system.outboxCount();
    const r = await post(name, body);
    expect(r.status).toBe(400);
    const err = ((await r.json()) as { error: { param: string; type: string } }).error;
    expect(err).toMatchObject({ param, type: "invalid_request_error" });
    expect(await system.outboxCount()).toBe(before);
  });

  it("404 for an unknown action", async () => {
    const r = await post("nope", good);
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("action_not_found");
  });
});

describe("model-backed actions with the openai handler", () => {
  const content = "export function area(r) {\n  return 3.14 * r * r;\n}\n// end\n";

  it("renders the prompt and turns the answer's code block into an edit of the selection", async () => {
    const selection = { start: at(1, 2), end: at(1, 22) };
    const { events } = await runStreamed("refactor_llm", {
      path: "src/geo.ts",
      language: "typescript",
      content,
      selection,
      instruction: "use Math.PI",
    });
    const done = events.at(-1)!;
    expect(done.event).toBe("done");
    expect(done.data.edits).toEqual([
      { path: "src/geo.ts", range: selection, replacement: "const answer = 42; // 😀 漢字" },
    ]);
    expect(events.find((e) => e.event === "edit")!.data).toEqual(done.data.edits![0]);
    expect(done.data.text).toContain("Shorter now.");
    const sent = upstream.calls.at(-1)!.body as {
      model: string;
      messages: { role: string; content: string }[];
    };
    expect(sent.model).toBe("code-block");
    const prompt = sent.messages.at(-1)!.content;
    expect(prompt).toContain("Rewrite the selected typescript code from src/geo.ts");
    expect(prompt).toContain("Instruction: use Math.PI");
    expect(prompt).toContain("```typescript\nreturn 3.14 * r * r;\n```");
    expect(prompt).toContain("```typescript\nexport function area(r) {\n  \n```");
    expect(prompt).toContain("```typescript\n\n}\n// end\n\n```");
  });

  it("says why when the answer has no code block, and asks without an empty Instruction line", async () => {
    const selection = { start: at(1, 2), end: at(1, 22) };
    const r = await runJson("refactor_prose", {
      path: "src/geo.ts",
      language: "typescript",
      content,
      selection,
    });
    expect(r.edits).toEqual([]);
    expect(r.diagnostics).toEqual([
      {
        range: selection,
        severity: "warning",
        code: "no_code_block",
        message:
          "refactor_prose: the model's answer has no code block, so nothing was changed. " +
          "It answered: Hello from upstream.",
      },
    ]);
    const prompt = (upstream.calls.at(-1)!.body as { messages: { content: string }[] }).messages.at(
      -1,
    )!.content;
    expect(prompt).not.toContain("Instruction:");
    expect(prompt).toMatch(/keeping its behaviour\.\n\nCode before the selection/);
  });

  it("puts generated tests in a new file named by the language's convention", async () => {
    const r = await runJson("tests_llm", { path: "src/geo.ts", language: "typescript", content });
    expect(r.edits).toEqual([
      {
        path: "src/geo.test.ts",
        range: { start: at(0, 0), end: at(0, 0) },
        replacement: "const answer = 42; // 😀 漢字",
      },
    ]);
  });

  it("turns problem lines into diagnostics on the named lines", async () => {
    const r = await runJson("review_llm", {
      path: "specs/orders.md",
      language: "markdown",
      content: SPEC,
    });
    expect(r.diagnostics).toEqual([
      {
        range: { start: at(1, 0), end: at(1, 20) },
        severity: "warning",
        message: "vague requirement",
      },
      {
        range: { start: at(2, 0), end: at(2, 22) },
        severity: "error",
        message: "contradicts line 2",
      },
    ]);
    const prompt = (upstream.calls.at(-1)!.body as { messages: { content: string }[] }).messages.at(
      -1,
    )!.content;
    expect(prompt).toContain("1: # Orders\n2: TODO: define refunds\n3: Orders ship in 2 days.");
  });
});

describe("an action answered by a handler service (http)", () => {
  it("posts the structured command and streams the service's edits and diagnostics", async () => {
    const selection = { start: at(0, 0), end: at(0, 3) };
    const { events } = await runStreamed("review_svc", {
      path: "x.md",
      language: "markdown",
      content: "abc\ndef",
      selection,
    });
    expect(events.map((e) => e.event)).toEqual(["text", "edit", "diagnostic", "done"]);
    const done = events.at(-1)!.data;
    expect(done.edits).toEqual([{ path: "x.md", range: selection, replacement: "reviewed" }]);
    expect(done.diagnostics).toEqual([
      {
        range: { start: at(0, 0), end: at(0, 1) },
        severity: "error",
        message: "from the service",
        code: "svc1",
      },
    ]);
    const req = service.requests.at(-1)!;
    expect(req).toMatchObject({
      subject: expect.stringMatching(/\.sea\.command\.editor_action\.v1$/),
      event_type: "editor_action",
      event_version: 1,
      tenant_id: "acme",
      payload: {
        model: "review_svc",
        action: "review_svc",
        handler: "http",
        output: "diagnostics",
        input: { path: "x.md", language: "markdown", content: "abc\ndef", selection },
        // No idempotency key: nothing to hash (no retry could find this stream).
        delivery: {},
      },
    });
  });
});
