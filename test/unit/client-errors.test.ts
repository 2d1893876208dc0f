import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BadRequestError, toOpenAIError } from "../../src/errors.js";
import { plainZodMessage } from "../../src/validation-message.js";

/** What API clients read when a request is refused or a stream is ended for them. */

/** A fastify request error as the framework raises it. */
const fastifyError = (code: string, statusCode: number, message: string) =>
  Object.assign(new Error(message), { code, statusCode });

describe("toOpenAIError", () => {
  it("names the body limit in the 413 when it is known", () => {
    const tooLarge = fastifyError("FST_ERR_CTP_BODY_TOO_LARGE", 413, "Request body is too large");
    expect(toOpenAIError(tooLarge, { bodyLimit: 512 * 1024 }).body.error).toEqual({
      message: "The request body is larger than the limit of 524288 bytes (512 KiB).",
      type: "invalid_request_error",
      param: null,
      code: "payload_too_large",
    });
    expect(toOpenAIError(tooLarge, { bodyLimit: 1536 * 1024 }).body.error.message).toContain(
      "(1.5 MiB)",
    );
    expect(toOpenAIError(tooLarge).body.error.message).toContain("MAX_BODY_BYTES");
  });

  it("keeps framework codes out of the body, even for errors it does not know", () => {
    const odd = fastifyError("FST_ERR_SOMETHING_NEW", 400, "FST_ERR_SOMETHING_NEW: Bad thing");
    expect(toOpenAIError(odd)).toEqual({
      status: 400,
      headers: {},
      body: {
        error: {
          message: "Bad thing",
          type: "invalid_request_error",
          param: null,
          code: "invalid_request",
        },
      },
    });
  });

  it("passes gateway errors through and hides everything else behind a 500", () => {
    expect(toOpenAIError(new BadRequestError("nope", "model")).body.error).toEqual({
      message: "nope",
      type: "invalid_request_error",
      param: "model",
      code: "invalid_request",
    });
    const internal = toOpenAIError(new Error("connection string postgres://u:p@h/db"));
    expect(internal.status).toBe(500);
    expect(internal.body.error.message).toBe("Internal server error");
  });
});

const Request = z
  .object({
    model: z.string().min(1),
    messages: z
      .array(
        z.object({
          role: z.enum(["system", "user", "assistant"]),
          content: z.union([
            z.string(),
            z.array(z.object({ type: z.literal("text"), text: z.string() })),
          ]),
        }),
      )
      .min(1),
    temperature: z.number().min(0).max(2).optional(),
    n: z.number().int().optional(),
    stop: z.array(z.string()).max(4).optional(),
    user: z.string().max(8).optional(),
    stream: z.boolean().optional(),
  })
  .strict();

const plain = (body: unknown) => {
  const r = Request.safeParse(body);
  if (r.success) throw new Error("expected a validation error");
  return plainZodMessage(r.error);
};
const ok = { model: "sea", messages: [{ role: "user", content: "hi" }] };

describe("plainZodMessage", () => {
  it.each([
    [{ ...ok, messages: [] }, "messages: must contain at least 1 item", "messages"],
    [{ messages: ok.messages }, "model: required", "model"],
    [{ ...ok, temperature: "hot" }, "temperature: must be a number", "temperature"],
    [{ ...ok, temperature: 3 }, "temperature: must be at most 2", "temperature"],
    [{ ...ok, temperature: -1 }, "temperature: must be at least 0", "temperature"],
    [{ ...ok, n: 1.5 }, "n: must be an integer", "n"],
    [{ ...ok, stream: "yes" }, "stream: must be true or false", "stream"],
    [{ ...ok, model: "" }, "model: must be at least 1 character long", "model"],
    [{ ...ok, user: "123456789" }, "user: must be at most 8 characters long", "user"],
    [{ ...ok, stop: ["a", "b", "c", "d", "e"] }, "stop: must contain at most 4 items", "stop"],
    [
      { ...ok, messages: [{ role: "bot", content: "x" }] },
      'messages[0].role: must be one of "system", "user", "assistant"',
      "messages[0].role",
    ],
    [
      { ...ok, messages: [{ role: "user", content: 3 }] },
      "messages[0].content: must be a string or an array",
      "messages[0].content",
    ],
    [
      { ...ok, messages: [{ role: "user", content: [{ type: "image" }] }] },
      'messages[0].content[0].type: must be "text"',
      "messages[0].content[0].type",
    ],
    [{ ...ok, extra: 1 }, "request body: unknown field 'extra'", null],
    ["hello", "request body: must be an object", null],
  ])("%j → %s", (body, message, param) => {
    expect(plain(body)).toEqual({ message, param });
  });

  it("lists several problems, the first three, and names the first one's param", () => {
    expect(plain({ temperature: "x", n: "y", stream: 1 })).toEqual({
      message: "model: required; messages: required; temperature: must be a number; and 2 more",
      param: "model",
    });
  });
});
