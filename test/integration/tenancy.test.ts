import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintKey } from "../../adapters/auth/jwt-verifier.js";
import { HandlerRegistry } from "../../src/worker/handler.js";
import { echoHandler } from "../../src/worker/handlers/echo.js";
import { createTestWorld, TEST_SECRET } from "../helpers/env.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";
import { sseContent } from "../helpers/sse.js";
import { zedProblems } from "../helpers/zed-checker.js";

const world = createTestWorld("tenancy");
let system: TestSystem;
let keyA: string;
let keyB: string;
let streamId: string;
const TEXT = "one two three four five";

const events = (key: string, id: string, query = "") =>
  fetch(`${system.baseURL}/chat/completions/${id}/events${query}`, {
    headers: { authorization: `Bearer ${key}` },
  });

beforeAll(async () => {
  system = await startTestSystem(world, testCatalog());
  await system.startWorkers(new HandlerRegistry().register(echoHandler()));
  keyA = await mintKey(TEST_SECRET, { tenant: "tenant-a", ttlSecs: 600 });
  keyB = await mintKey(TEST_SECRET, { tenant: "tenant-b", ttlSecs: 600 });
  const r = await fetch(`${system.baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${keyA}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "vibespro", messages: [{ role: "user", content: TEXT }] }),
  });
  expect(r.status).toBe(200);
  streamId = r.headers.get("x-stream-id")!;
});

afterAll(async () => {
  await system?.stop();
  await world.cleanup();
});

describe("streams belong to their tenant", () => {
  it("lets the owner read the stream again, whole or after the chunks it has", async () => {
    const whole = await (await events(keyA, streamId)).text();
    expect(zedProblems(whole)).toEqual([]);
    expect(sseContent(whole)).toBe(TEXT);
    expect(whole.endsWith("data: [DONE]\n\n")).toBe(true);
    const rest = await (await events(keyA, streamId, "?after=2")).text();
    expect(sseContent(rest)).toBe("three four five");
  });

  it("gives another tenant the same 404 as an id that does not exist", async () => {
    const foreign = await events(keyB, streamId);
    const missingId = randomUUID();
    const missing = await events(keyB, missingId);
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    const a = JSON.stringify(await foreign.json()).replaceAll(streamId, "ID");
    const b = JSON.stringify(await missing.json()).replaceAll(missingId, "ID");
    expect(a).toBe(b);
  });

  it.each(["a.b", "*", ">", "%3E", "a%20b", "%00", "%C3%A9", `${"x".repeat(65)}`])(
    "refuses stream id %s with a 404, never a wider read",
    async (id) => {
      expect((await events(keyA, id)).status).toBe(404);
    },
  );
});
