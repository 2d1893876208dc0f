import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestWorld } from "../helpers/env.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";

/**
 * Requests the framework refuses before our code sees them (body parser, content type, size)
 * answer with an OpenAI error in plain words, through the real HTTP gateway.
 */
const world = createTestWorld("httperr");
let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem(world, testCatalog(), {
    MAX_BODY_BYTES: "4096",
  });
});
afterAll(async () => {
  await system?.stop();
  await world.cleanup();
});

async function post(body: string, contentType: string | null) {
  const headers: Record<string, string> = { authorization: `Bearer ${system.apiKey}` };
  if (contentType !== null) headers["content-type"] = contentType;
  const r = await fetch(`${system.baseURL}/chat/completions`, { method: "POST", headers, body });
  const text = await r.text();
  return { status: r.status, text, json: JSON.parse(text) as { error: Record<string, unknown> } };
}

describe("framework errors", () => {
  it.each([
    [
      "invalid JSON",
      '{"model": "sea", "messages": [',
      "application/json",
      400,
      "invalid_json",
      "The request body is not valid JSON. Send the body as a JSON object with 'Content-Type: application/json'.",
    ],
    [
      "an empty JSON body",
      "",
      "application/json",
      400,
      "invalid_json",
      "The request body is empty. Send the body as a JSON object with 'Content-Type: application/json'.",
    ],
    [
      "a form body (curl -d without -H)",
      "model=sea",
      "application/x-www-form-urlencoded",
      415,
      "unsupported_media_type",
      "Unsupported Content-Type. Send the body as a JSON object with 'Content-Type: application/json'.",
    ],
  ])(
    "%s: %i, invalid_request_error, a plain message",
    async (_what, body, ct, status, code, msg) => {
      const r = await post(body, ct);
      expect(r.status).toBe(status);
      expect(r.json).toEqual({
        error: { message: msg, type: "invalid_request_error", param: null, code },
      });
      expect(r.text.toLowerCase()).not.toContain("fst_");
    },
  );

  it("a body over the limit: 413 naming the limit", async () => {
    const r = await post(
      JSON.stringify({ model: "sea", pad: "x".repeat(5000) }),
      "application/json",
    );
    expect(r.status).toBe(413);
    expect(r.json.error).toMatchObject({
      type: "invalid_request_error",
      code: "payload_too_large",
    });
    expect(r.json.error.message).toMatch(/^The request body is larger than .*limit/);
    expect(r.text.toLowerCase()).not.toContain("fst_");
  });
});
