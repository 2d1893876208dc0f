import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CatalogSchema } from "../../contracts/index.js";

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

  it("examples/capabilities.example.yaml is a valid catalog", () => {
    expect(CatalogSchema.safeParse(parse(read("examples/capabilities.example.yaml"))).success).toBe(
      true,
    );
  });
});
