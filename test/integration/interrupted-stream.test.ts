import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HandlerRegistry, type ChatHandler } from "../../src/worker/handler.js";
import { createTestWorld, eventually } from "../helpers/env.js";
import { startTestSystem, testCatalog, type TestSystem } from "../helpers/system.js";
import { sseContent, sseError } from "../helpers/sse.js";

const world = createTestWorld("interrupted");
let system: TestSystem;

/**
 * A handler that samples: its first attempt streams two words and then fails transiently (as a
 * worker whose upstream broke), the redelivered attempt answers differently, in full, at a
 * model's pace (so that anything stopping it after its first word would).
 */
const resampling: ChatHandler = {
  name: "resample",
  handle: async (_cmd, ctx) => {
    const words = ctx.attempt === 1 ? ["first-1 ", "first-2 "] : ["second-1 ", "second-2 "];
    for (const content of words) {
      await ctx.emit({ content });
      if (ctx.attempt > 1) await new Promise((r) => setTimeout(r, 500));
    }
    if (ctx.attempt === 1) {
      // Long enough for the client to hold the first words before the attempt fails.
      await new Promise((r) => setTimeout(r, 300));
      throw new Error("upstream connection reset");
    }
    return {
      message: { role: "assistant", content: words.join("") },
      finish_reason: "stop",
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    };
  },
};

beforeAll(async () => {
  // STREAM_CANCEL_GRACE_MS 0 (the default): a stream whose reader leaves is cancelled at once.
  system = await startTestSystem(
    world,
    testCatalog([{ id: "sea-resample", context: "sea", handler: "resample" }]),
  );
  await system.startWorkers(new HandlerRegistry().register(resampling), ["sea"]);
});

afterAll(async () => {
  await system?.stop();
  await world.cleanup();
});

describe("an answer generated again differently after the client got part of it", () => {
  it("ends the stream with stream_interrupted and lets the new attempt finish, readable whole", async () => {
    const res = await fetch(`${system.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${system.apiKey}` },
      body: JSON.stringify({
        model: "sea-resample",
        stream: true,
        messages: [{ role: "user", content: "sample twice" }],
      }),
    });
    const streamId = res.headers.get("x-stream-id")!;
    const body = await res.text();
    // Never a mix: the first attempt's words, then the error (no word of the second).
    expect(sseContent(body)).toBe("first-1 first-2 ");
    expect(sseError(body)?.code).toBe("stream_interrupted");
    // The client was told to read the whole answer from the status: it must get there.
    const status = await eventually(
      async () => {
        const r = await fetch(`${system.baseURL}/chat/completions/${streamId}`, {
          headers: { authorization: `Bearer ${system.apiKey}` },
        });
        const s = (await r.json()) as {
          status: string;
          choices: { message: { content: string } }[];
        };
        return s.status === "in_progress" || s.status === "queued" ? null : s;
      },
      20_000,
      "the stream to end",
    );
    expect(status.status).toBe("completed");
    expect(status.choices[0]!.message.content).toBe("second-1 second-2 ");
  });
});
