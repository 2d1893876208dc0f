import { describe, expect, it } from "vitest";
import { BadRequestError, toOpenAIError } from "../../src/errors.js";

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
