import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contextHandlers } from "../../bin/handlers.js";
import { createTestWorld } from "../helpers/env.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

// Debian's own Neovim (0.7.2 on Debian 12) runs examples/neovim-0.7-sea-lsp.lua as a user's
// init.lua would, starts `sea-gateway lsp` from PATH, and runs a code action on a `V` (line)
// selection through its own LSP client: the range it sends ends one past the line.
const repo = fileURLToPath(new URL("../..", import.meta.url));
const NVIM = process.env.NVIM_BIN ?? "/usr/bin/nvim";
const world = createTestWorld("nvim");
const scratch = await mkdtemp(path.join(tmpdir(), "sea-nvim-"));
let system: TestSystem;

// The test's side: pick the refactor action, record what the editor sends and is told.
const DRIVER = `
local out = { sent = {}, edits = {}, messages = {}, attached = false }
local function finish()
  vim.fn.writefile({ vim.fn.json_encode(out) }, os.getenv("SEA_TEST_OUT"))
  vim.cmd("qa!")
end
local request_all = vim.lsp.buf_request_all
vim.lsp.buf_request_all = function(bufnr, method, params, cb)
  if method == "textDocument/codeAction" then table.insert(out.sent, params.range) end
  return request_all(bufnr, method, params, cb)
end
local apply = vim.lsp.handlers["workspace/applyEdit"]
vim.lsp.handlers["workspace/applyEdit"] = function(err, params, ctx, config)
  table.insert(out.edits, params.edit)
  return apply(err, params, ctx, config)
end
vim.lsp.handlers["window/showMessage"] = function(_, params)
  table.insert(out.messages, params.message)
end
vim.ui.select = function(items, opts, choose)
  for i, item in ipairs(items) do
    if opts.format_item(item):find("refactor") then return choose(item, i) end
  end
  choose(nil, nil)
end
out.attached = vim.wait(30000, function()
  local c = vim.lsp.buf_get_clients(0)[1]
  return c ~= nil and next(c.server_capabilities or {}) ~= nil
end, 50)
if not out.attached then return finish() end
vim.api.nvim_win_set_cursor(0, { 2, 0 })
vim.cmd([[execute "normal! V\\<Esc>"]])
if vim.lsp.buf.range_code_action then
  vim.lsp.buf.range_code_action()
else
  vim.lsp.buf.code_action({
    range = { start = vim.api.nvim_buf_get_mark(0, "<"), ["end"] = vim.api.nvim_buf_get_mark(0, ">") },
  })
end
vim.wait(30000, function() return #out.edits > 0 or #out.messages > 0 end, 50)
out.lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
finish()
`;

beforeAll(async () => {
  system = await startTestSystem(world, testCatalog());
  await system.startWorkers(contextHandlers(world.config(), "sea"), ["sea"]);
  // `sea-gateway` on PATH, as the example expects: the CLI from source.
  await mkdir(path.join(scratch, "bin"));
  const shim = path.join(scratch, "bin", "sea-gateway");
  const cli = path.join(repo, "bin", "sea-gateway.ts");
  await writeFile(
    shim,
    `#!/bin/sh\nexec "${process.execPath}" --import "${import.meta.resolve("tsx")}" "${cli}" "$@"\n`,
  );
  await chmod(shim, 0o755);
  await writeFile(path.join(scratch, "driver.lua"), DRIVER);
  await mkdir(path.join(scratch, "app", ".git"), { recursive: true });
  await writeFile(
    path.join(scratch, "app", "add.ts"),
    "export function add(a: number, b: number) {\n  return a + b; // 😀 漢字\n}\n",
  );
});

afterAll(async () => {
  await system?.stop();
  await world.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

/** Throws, saying what to install, when Debian's Neovim is not there. */
function requireNeovim(): void {
  const version = spawnSync(NVIM, ["--version"], { encoding: "utf8" });
  if (version.error) {
    throw new Error(`${NVIM} missing (${version.error.message}): apt-get install neovim`);
  }
}

describe("Neovim's own LSP client with examples/neovim-0.7-sea-lsp.lua", () => {
  it.each(["neovim-0.7-sea-lsp.lua", "neovim-sea-lsp.lua"])("examples/%s is valid Lua", (file) => {
    requireNeovim();
    const check = `local f, e = loadfile("${path.join(repo, "examples", file)}") if not f then io.stderr:write(e) vim.cmd("cquit") end`;
    const r = spawnSync(
      NVIM,
      ["--headless", "--clean", "-i", "NONE", "-c", `lua ${check}`, "-c", "qa!"],
      {
        encoding: "utf8",
        env: { ...process.env, HOME: scratch, XDG_STATE_HOME: path.join(scratch, "state") },
      },
    );
    expect(r.status, r.stderr).toBe(0);
  });

  it("runs refactor on a V selection: the range is clamped and the edit applied", async () => {
    requireNeovim();
    const result = path.join(scratch, "out.json");
    const child = spawn(
      NVIM,
      [
        "--headless",
        "--clean",
        "-i",
        "NONE",
        "-u",
        path.join(repo, "examples", "neovim-0.7-sea-lsp.lua"),
        path.join(scratch, "app", "add.ts"),
        "-c",
        `luafile ${path.join(scratch, "driver.lua")}`,
      ],
      {
        cwd: path.join(scratch, "app"),
        env: {
          PATH: `${path.join(scratch, "bin")}:${process.env.PATH ?? ""}`,
          HOME: scratch,
          XDG_CACHE_HOME: path.join(scratch, "cache"),
          XDG_STATE_HOME: path.join(scratch, "state"),
          XDG_DATA_HOME: path.join(scratch, "data"),
          SEA_GATEWAY_URL: system.baseURL,
          SEA_API_KEY: system.apiKey,
          SEA_TEST_OUT: result,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code, stderr).toBe(0);
    const out = JSON.parse(await readFile(result, "utf8")) as {
      attached: boolean;
      sent: { start: object; end: { line: number; character: number } }[];
      edits: { changes?: Record<string, { range: object; newText: string }[]> }[];
      messages: string[];
      lines: string[];
    };
    expect(out.attached).toBe(true);
    // Line 1 is 24 UTF-16 units long; Neovim's V selection ends at character 25.
    expect(out.sent).toEqual([
      { start: { line: 1, character: 0 }, end: { line: 1, character: 25 } },
    ]);
    expect(out.messages).toEqual([]);
    expect(out.edits).toHaveLength(1);
    // 0.7 does not take documentChanges: the edit comes as plain changes of the file.
    const uri = `file://${path.join(scratch, "app", "add.ts")}`;
    // (Neovim marks the edits it applied with an `_index` of its own.)
    expect(out.edits[0]!.changes![uri]).toEqual([
      expect.objectContaining({
        range: { start: { line: 1, character: 0 }, end: { line: 1, character: 24 } },
        newText: "  return a + b; // 😀 漢字",
      }),
    ]);
    expect(out.lines).toEqual([
      "export function add(a: number, b: number) {",
      "  return a + b; // 😀 漢字",
      "}",
    ]);
  });
});
