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
      (await loadCatalog(loadConfig(env))).list().map((c) => `${c.id}:${c.handler}`);
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

  it("refuses a catalog whose handler the workers would not have", async () => {
    const p = await file("capabilities:\n  - {id: m, context: sea, handler: openai}\n");
    const config = loadConfig({ CAPABILITIES_FILE: p });
    const catalog = await loadCatalog(config);
    expect(() => checkCatalogHandlers(catalog, { sea: contextHandlers(config, "sea") })).toThrow(
      /UPSTREAM_OPENAI_BASE_URL/,
    );
  });
});
