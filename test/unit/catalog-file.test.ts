import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../bin/catalog-file.js";
import { checkCatalogHandlers, contextHandlers } from "../../bin/handlers.js";
import { ConfigError, loadConfig } from "../../src/config.js";

async function file(text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "catalog-"));
  const p = path.join(dir, "capabilities.yaml");
  await writeFile(p, text);
  return p;
}

describe("capability catalog", () => {
  it("defaults to echo, then to the upstream, then to the context's handler service", async () => {
    const ids = async (env: Record<string, string>) =>
      (await loadCatalog(loadConfig(env)))
        .list()
        .filter((c) => c.kind === "chat")
        .map((c) => `${c.id}:${c.handler}`);
    expect(await ids({})).toEqual(["sea:echo", "vibespro:echo"]);
    expect(await ids({ UPSTREAM_OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" })).toEqual([
      "sea:openai",
      "vibespro:openai",
    ]);
    expect(
      await ids({
        UPSTREAM_OPENAI_BASE_URL: "http://127.0.0.1:11434/v1",
        SEA_HANDLER_URL: "http://127.0.0.1:7001/handle",
      }),
    ).toEqual(["sea:http", "vibespro:openai"]);
  });

  it("reads YAML (and JSON) and lists every problem of a bad file", async () => {
    const good = await file("capabilities:\n  - {id: m1, context: sea, handler: echo}\n");
    expect((await loadCatalog(loadConfig({ CAPABILITIES_FILE: good }))).find("m1")?.context).toBe(
      "sea",
    );
    const json = await file(
      JSON.stringify({ capabilities: [{ id: "j", context: "vibespro", handler: "echo" }] }),
    );
    expect((await loadCatalog(loadConfig({ CAPABILITIES_FILE: json }))).find("j")).toBeTruthy();
    const bad = await file(
      "capabilities:\n  - {id: m1, context: mars, handler: echo}\n  - {context: sea}\n",
    );
    const err = await loadCatalog(loadConfig({ CAPABILITIES_FILE: bad })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.length).toBeGreaterThanOrEqual(3);
  });

  it("says which fields that shape the answer each model honours, its handler's by default", async () => {
    const p = await file(
      [
        "capabilities:",
        "  - {id: e, context: sea, handler: echo}",
        "  - {id: u, context: sea, handler: openai, upstream_model: m}",
        "  - {id: s, context: sea, handler: http}",
        "  - {id: j, context: sea, handler: http, honours: [response_format]}",
      ].join("\n"),
    );
    const catalog = await loadCatalog(loadConfig({ CAPABILITIES_FILE: p }));
    const honours = (id: string) => catalog.honours(catalog.findChat(id)!);
    expect(honours("e")).toEqual([]);
    expect(honours("u")).toEqual(["response_format", "logprobs", "web_search_options"]);
    expect(honours("s")).toEqual([]);
    expect(honours("j")).toEqual(["response_format"]);
  });

  it("refuses a model said to honour a field its handler cannot", async () => {
    const p = await file(
      "capabilities:\n  - {id: m, context: sea, handler: echo, honours: [response_format]}\n",
    );
    const config = loadConfig({ CAPABILITIES_FILE: p });
    const catalog = await loadCatalog(config);
    expect(() => checkCatalogHandlers(catalog, { sea: contextHandlers(config, "sea") })).toThrow(
      /model 'm' honours response_format, which handler 'echo' cannot/,
    );
    const unknown = await file(
      "capabilities:\n  - {id: m, context: sea, handler: echo, honours: [telepathy]}\n",
    );
    await expect(loadCatalog(loadConfig({ CAPABILITIES_FILE: unknown }))).rejects.toThrow(
      /capabilities\.0\.honours\.0/,
    );
  });

  it("refuses a catalog whose handler the workers would not have", async () => {
    const p = await file("capabilities:\n  - {id: m, context: sea, handler: openai}\n");
    const config = loadConfig({ CAPABILITIES_FILE: p });
    const catalog = await loadCatalog(config);
    expect(() => checkCatalogHandlers(catalog, { sea: contextHandlers(config, "sea") })).toThrow(
      /UPSTREAM_OPENAI_BASE_URL/,
    );
  });
});

describe("editor actions in the catalog", () => {
  const actions = async (env: Record<string, string>) =>
    (await loadCatalog(loadConfig(env)))
      .list()
      .filter((c) => c.kind === "action")
      .map((c) => `${c.id}:${c.context}:${c.handler}`);

  it("has the built-in actions, run by their context's default handler", async () => {
    expect(await actions({})).toEqual([
      "explain:sea:echo",
      "refactor:sea:echo",
      "generate_tests:vibespro:echo",
      "validate_spec:sea:echo",
    ]);
    const withUpstream = await loadCatalog(
      loadConfig({
        UPSTREAM_OPENAI_BASE_URL: "http://127.0.0.1:11434/v1",
        SEA_HANDLER_URL: "http://127.0.0.1:7001/handle",
        UPSTREAM_MODEL: "llama3.1:8b",
      }),
    );
    expect(withUpstream.findAction("refactor")?.handler).toBe("http");
    expect(withUpstream.findAction("generate_tests")).toMatchObject({
      handler: "openai",
      upstream_model: "llama3.1:8b",
    });
  });

  it("lets a file add, replace and remove actions, keeping the default chat models", async () => {
    const p = await file(
      [
        "capabilities:",
        "  - id: explain",
        "    kind: action",
        "    context: vibespro",
        "    handler: echo",
        "    description: Explain, VibesPro style",
        "    prompt: 'Explain {{selection}} in {{language}}'",
        "  - {id: summarize, kind: action, context: sea, handler: echo, description: Summarize, requires: [selection]}",
        "remove: [validate_spec]",
      ].join("\n"),
    );
    const catalog = await loadCatalog(loadConfig({ CAPABILITIES_FILE: p }));
    expect(catalog.list().map((c) => c.id)).toEqual([
      "sea",
      "vibespro",
      "refactor",
      "generate_tests",
      "explain",
      "summarize",
    ]);
    expect(catalog.findAction("explain")).toMatchObject({
      context: "vibespro",
      command: "editor_action",
      output: "text",
    });
    expect(catalog.findAction("summarize")?.requires).toEqual(["selection"]);
    expect(catalog.findChat("explain")).toBeUndefined();
  });

  it("refuses invalid actions at boot, listing each problem", async () => {
    const p = await file(
      [
        "capabilities:",
        "  - {id: Bad-Name, kind: action, context: sea, handler: echo, description: x}",
        "  - {id: nodesc, kind: action, context: sea, handler: echo}",
        "  - {id: oddprompt, kind: action, context: sea, handler: echo, description: x, prompt: '{{nope}}'}",
        "  - {id: llm, kind: action, context: sea, handler: openai, description: x}",
        "  - {id: out, kind: action, context: sea, handler: echo, description: x, output: poem}",
        "remove: [not_builtin]",
      ].join("\n"),
    );
    const err = (await loadCatalog(loadConfig({ CAPABILITIES_FILE: p })).catch(
      (e: unknown) => e,
    )) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    const text = err.problems.join("\n");
    expect(text).toMatch(/capabilities\.0\.id: an action name/);
    expect(text).toMatch(/capabilities\.1\.description/);
    expect(text).toMatch(/capabilities\.2\.prompt: unknown placeholder/);
    expect(text).toMatch(/capabilities\.3\.upstream_model/);
    expect(text).toMatch(/capabilities\.4\.output/);
    const removal = await file("remove: [not_builtin]\n");
    await expect(loadCatalog(loadConfig({ CAPABILITIES_FILE: removal }))).rejects.toThrow(
      /'not_builtin' is not a built-in action/,
    );
  });

  it("refuses an action whose handler runs no editor actions", async () => {
    const p = await file(
      "capabilities:\n  - {id: act, kind: action, context: sea, handler: plain, description: x}\n",
    );
    const config = loadConfig({ CAPABILITIES_FILE: p });
    const catalog = await loadCatalog(config);
    const registry = contextHandlers(config, "sea").register({
      name: "plain",
      handle: () => Promise.reject(new Error("unused")),
    });
    expect(() => checkCatalogHandlers(catalog, { sea: registry })).toThrow(
      /'plain', which does not run editor actions/,
    );
  });
});
