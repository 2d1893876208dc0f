import { describe, expect, it } from "vitest";
import { echoHandler, wordsWithSpace } from "../../src/worker/handlers/echo.js";
import type { HandlerContext } from "../../src/worker/handler.js";
import { testLog } from "../helpers/env.js";

describe("echo handler", () => {
  it.each(["hello world", "  lead and trail  ", "one", "", "tabs\tand\nnewlines ", "   "])(
    "splits %j into words whose concatenation is the input",
    (text) => {
      expect(wordsWithSpace(text).join("")).toBe(text);
    },
  );

  it("streams one chunk per word and counts usage in words", async () => {
    const chunks: string[] = [];
    const ctx: HandlerContext = {
      message: {
        id: "m",
        subject: "sea.command.chat_completion.v1",
        eventType: "chat_completion",
        eventVersion: 1,
        occurredAt: new Date().toISOString(),
        causationId: null,
      },
      attempt: 1,
      tenant: "t",
      correlationId: "c",
      signal: new AbortController().signal,
      log: testLog,
      emit: async (d) => {
        chunks.push(d.content ?? "");
      },
    };
    const result = await echoHandler().handle(
      {
        stream_id: "s",
        model: "sea",
        handler: "echo",
        params: {},
        messages: [
          { role: "system", content: "be brief" },
          {
            role: "user",
            content: [
              { type: "text", text: "say " },
              { type: "text", text: "it back" },
            ],
          },
        ],
      },
      ctx,
    );
    expect(chunks).toEqual(["say ", "it ", "back"]);
    expect(result.message.content).toBe("say it back");
    expect(result.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  });
});
