import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CatalogFileSchema } from "../../contracts/index.js";
import { catalogFromFile } from "../../src/catalog.js";

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), "utf8");

describe("shipped examples", () => {
  it("librechat.example.yaml is a custom endpoint LibreChat accepts", () => {
    const doc = parse(read("librechat.example.yaml")) as {
      endpoints: { custom: Record<string, unknown>[] };
    };
    const sea = doc.endpoints.custom[0]!;
    expect(sea).toMatchObject({
      apiKey: "${SEA_API_KEY}",
      baseURL: expect.stringMatching(/\/v1$/),
      models: { fetch: true, default: ["sea", "vibespro"] },
      titleConvo: true,
      headers: {
        "X-User-Id": "{{LIBRECHAT_USER_ID}}",
        "X-Conversation-Id": "{{LIBRECHAT_BODY_CONVERSATIONID}}",
      },
    });
  });

  it("librechat.example.yaml's endpoint uses only keys LibreChat's schema has", () => {
    // The custom endpoint keys of /work/shared/CLIENTS.md (LibreChat drops any other silently).
    const known = [
      "name",
      "apiKey",
      "baseURL",
      "models",
      "titleConvo",
      "titleModel",
      "titleMethod",
      "modelDisplayLabel",
      "iconURL",
      "headers",
      "addParams",
      "dropParams",
      "directEndpoint",
    ];
    const doc = parse(read("librechat.example.yaml")) as {
      endpoints: { custom: Record<string, unknown>[] };
    };
    expect(Object.keys(doc.endpoints.custom[0]!).filter((k) => !known.includes(k))).toEqual([]);
  });

  it("examples/zed-settings.json declares an openai_compatible provider", () => {
    const doc = JSON.parse(read("examples/zed-settings.json")) as {
      language_models: {
        openai_compatible: Record<
          string,
          {
            api_url: string;
            available_models: { name: string; capabilities: Record<string, boolean> }[];
          }
        >;
      };
    };
    const sea = doc.language_models.openai_compatible.SEA!;
    expect(sea.api_url).toMatch(/\/v1$/);
    expect(sea.available_models.map((m) => m.name)).toEqual(["sea", "vibespro"]);
    for (const m of sea.available_models) {
      expect(Object.keys(m.capabilities).sort()).toEqual([
        "images",
        "parallel_tool_calls",
        "prompt_cache_key",
        "tools",
      ]);
    }
  });

  it("examples/capabilities.example.yaml is a valid catalog file", () => {
    const file = CatalogFileSchema.parse(parse(read("examples/capabilities.example.yaml")));
    const merged = catalogFromFile(file);
    expect(merged.ok && merged.catalog.capabilities.map((c) => c.id)).toEqual([
      "sea",
      "vibespro",
      "sea-echo",
      "explain",
      "refactor",
      "generate_tests",
      "docstring",
    ]);
  });

  it("librechat.example.yaml declares the MCP server as streamable HTTP with the key", () => {
    const doc = parse(read("librechat.example.yaml")) as { mcpServers: Record<string, unknown> };
    expect(doc.mcpServers["sea-gateway"]).toMatchObject({
      type: "streamable-http",
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:8080\/mcp$/),
      headers: { Authorization: "Bearer ${SEA_API_KEY}" },
    });
  });

  it("examples/zed-settings.json declares the MCP server as a remote context server", () => {
    const doc = JSON.parse(read("examples/zed-settings.json")) as {
      context_servers: Record<string, { url: string; headers: Record<string, string> }>;
    };
    const server = doc.context_servers["sea-gateway"]!;
    expect(Object.keys(server).sort()).toEqual(["headers", "url"]);
    expect(server.url).toMatch(/\/mcp$/);
    expect(server.headers.Authorization).toMatch(/^Bearer \S+$/);
  });

  it.each([
    ["examples/neovim-sea-lsp.lua", /cmd = \{ "sea-gateway", "lsp" \}/],
    ["examples/neovim-0.7-sea-lsp.lua", /cmd = \{ "sea-gateway", "lsp" \}/],
    ["examples/helix-languages.toml", /command = "sea-gateway"\nargs = \["lsp"\]/],
  ])("%s starts `sea-gateway lsp` with settings the server reads", (file, command) => {
    const text = read(file);
    expect(text).toMatch(command);
    expect(text).toContain("SEA_GATEWAY_URL");
    // The initialization options the server understands (src/lsp/language-server.ts).
    expect(text).toMatch(/validateLanguages = \{? ?\[?"markdown", "yaml"/);
    expect(text).toContain('validateAction = "validate_spec"');
  });

  // Neovim 0.11 added vim.lsp.config; 0.8 vim.lsp.start; 0.7 has start_client only.
  it.each([
    ["examples/neovim-sea-lsp.lua", "0.11+", ["vim.lsp.config(", "vim.lsp.enable("], []],
    [
      "examples/neovim-0.7-sea-lsp.lua",
      "0.7 to 0.10",
      ["vim.lsp.start(", "vim.lsp.start_client(", "vim.lsp.buf_attach_client("],
      ["vim.lsp.config", "vim.lsp.enable", "vim.fs."],
    ],
  ])(
    "%s says it is for Neovim %s and uses only what those have",
    (file, versions, uses, avoids) => {
      const text = read(file);
      expect(text.split("\n")[0]).toContain(`Neovim ${versions}`);
      for (const call of uses) expect(text).toContain(call);
      for (const call of avoids) expect(text).not.toContain(call);
    },
  );

  it("README says which Neovim versions each example fits", () => {
    const readme = read("README.md");
    expect(readme).toContain("`examples/neovim-sea-lsp.lua` (Neovim 0.11+");
    expect(readme).toContain("`examples/neovim-0.7-sea-lsp.lua` (Neovim 0.7 to 0.10");
  });

  it("examples/zed-settings.json runs sea-gateway acp as a custom agent server", () => {
    const doc = JSON.parse(read("examples/zed-settings.json")) as {
      agent_servers: Record<string, Record<string, unknown>>;
    };
    expect(doc.agent_servers.SEA).toEqual({
      type: "custom",
      command: "npx",
      args: ["-y", "sea-gateway", "acp"],
      env: { SEA_GATEWAY_URL: "http://127.0.0.1:8080", SEA_API_KEY: "YOUR_SEA_API_KEY" },
    });
  });

  it("acp/agent.json is a registry entry for this package's version, with a monochrome icon", () => {
    const pkg = JSON.parse(read("package.json")) as {
      name: string;
      version: string;
      private?: boolean;
      files: string[];
      scripts: Record<string, string>;
      bin: Record<string, string>;
    };
    const entry = JSON.parse(read("acp/agent.json")) as Record<string, unknown>;
    expect(entry).toMatchObject({
      id: "sea-gateway",
      version: pkg.version,
      distribution: { npx: { package: `${pkg.name}@${pkg.version}`, args: ["acp"] } },
    });
    expect(Object.keys(entry).filter((k) => !REGISTRY_KEYS.includes(k))).toEqual([]);
    const icon = read("acp/icon.svg");
    expect(icon).toMatch(/width="16" height="16"/);
    const colors = [...icon.matchAll(/(?:fill|stroke)="([^"]+)"/g)].map((m) => m[1]);
    expect(colors.filter((c) => c !== "currentColor" && c !== "none")).toEqual([]);
    // npx can run what the registry names: published, built on pack, with the bin inside.
    expect(pkg.private).toBeUndefined();
    expect(pkg.scripts.prepack).toContain("build");
    expect(pkg.files).toContain("dist/");
    expect(pkg.bin["sea-gateway"]).toMatch(/^dist\//);
  });
});

/** The keys the ACP registry's agent.schema.json allows (the build adds `icon` itself). */
const REGISTRY_KEYS = [
  "id",
  "name",
  "version",
  "description",
  "repository",
  "website",
  "authors",
  "license",
  "license_url",
  "distribution",
];
