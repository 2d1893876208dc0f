import type { ChatFailedPayload, OpenAIErrorBody } from "../contracts/index.js";

/**
 * The gateway's small error hierarchy. Every error a client can see is a {@link GatewayError}
 * with a stable `code` and HTTP status; {@link toOpenAIError} is the one place that turns any
 * thrown value into the OpenAI error body.
 */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  /** Extra response headers, e.g. `retry-after`. */
  readonly headers: Record<string, string>;

  constructor(
    message: string,
    opts: {
      status: number;
      type: string;
      code?: string | null;
      param?: string | null;
      headers?: Record<string, string>;
      cause?: unknown;
    },
  ) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.status = opts.status;
    this.type = opts.type;
    this.code = opts.code ?? null;
    this.param = opts.param ?? null;
    this.headers = opts.headers ?? {};
  }
}

export class BadRequestError extends GatewayError {
  constructor(message: string, param: string | null = null, code = "invalid_request") {
    super(message, { status: 400, type: "invalid_request_error", code, param });
  }
}

export class AuthenticationError extends GatewayError {
  constructor(message = "Invalid or missing API key. Send it as 'Authorization: Bearer <key>'.") {
    super(message, {
      status: 401,
      type: "authentication_error",
      code: "invalid_api_key",
      // RFC 6750 §3: a 401 names the scheme (MCP clients read it to know how to authenticate).
      headers: { "www-authenticate": 'Bearer realm="sea-gateway"' },
    });
  }
}

/** 403: a valid key without the `admin` claim asked for operational state. */
export class AdminRequiredError extends GatewayError {
  constructor() {
    super("This key has no admin claim (create one with `sea-gateway keys create --admin`).", {
      status: 403,
      type: "permission_error",
      code: "admin_required",
    });
  }
}

export class NotFoundError extends GatewayError {
  constructor(message: string, code = "not_found", param: string | null = null) {
    super(message, { status: 404, type: "invalid_request_error", code, param });
  }
}

/** 404 for a model id that does not exist or that the caller's key may not use: the same answer. */
export class ModelNotFoundError extends NotFoundError {
  constructor(modelId: string) {
    super(
      `The model '${modelId}' does not exist or you do not have access to it.`,
      "model_not_found",
      "model",
    );
  }
}

export class ServiceUnavailableError extends GatewayError {
  constructor(
    message: string,
    retryAfterSecs = 1,
    cause?: unknown,
    /** Why, for `http_rejections_total` (the client sees `service_unavailable` either way). */
    readonly reason = "unavailable",
  ) {
    super(message, {
      status: 503,
      type: "service_unavailable",
      code: "service_unavailable",
      headers: { "retry-after": String(retryAfterSecs) },
      cause,
    });
  }
}

/** A capability reported failure through its `failed` result event. */
export class CapabilityFailedError extends GatewayError {
  constructor(
    message: string,
    status: number,
    type: string,
    code: string | null,
    retryAfterSecs?: number,
  ) {
    super(message, {
      status,
      type,
      code,
      headers: retryAfterSecs === undefined ? {} : { "retry-after": String(retryAfterSecs) },
    });
  }

  /** The error a `failed` event reports. */
  static from(payload: ChatFailedPayload): CapabilityFailedError {
    const e = payload.error;
    return new CapabilityFailedError(e.message, e.status, e.type, e.code, e.retry_after);
  }
}

/** What the error map may be told about the request that failed. */
export interface ErrorContext {
  /** The request body limit in bytes that applied, for the 413 message. */
  bodyLimit?: number;
}

const SEND_JSON = "Send the body as a JSON object with 'Content-Type: application/json'.";

/**
 * The framework's request errors (body parsing, content type, size), keyed by fastify's error
 * code, as plain OpenAI errors: no framework internals (`FST_ERR_…`) reach a client.
 */
const FRAMEWORK_ERRORS: Record<string, { code: string; message: (ctx: ErrorContext) => string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: "invalid_json",
    message: () => `The request body is not valid JSON. ${SEND_JSON}`,
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: "invalid_json",
    message: () => `The request body is empty. ${SEND_JSON}`,
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: "unsupported_media_type",
    message: () => `Unsupported Content-Type. ${SEND_JSON}`,
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: "payload_too_large",
    message: ({ bodyLimit }) =>
      bodyLimit === undefined
        ? "The request body is larger than the gateway accepts (its MAX_BODY_BYTES limit)."
        : `The request body is larger than the limit of ${bodyLimit} bytes (${formatBytes(bodyLimit)}).`,
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: "invalid_request",
    message: () => "The request body's size does not match its Content-Length header.",
  },
  FST_ERR_BAD_URL: {
    code: "invalid_url",
    message: () => "The URL is not valid: it has bad percent-encoding (e.g. '%zz').",
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    code: "invalid_url",
    message: () => "A path parameter of the URL is too long (at most 100 characters).",
  },
};

/**
 * The answers Node's HTTP parser gives a request it cannot read (fastify's `clientError`):
 * status and message by Node's error code; anything else is a 400.
 */
export function clientErrorAnswer(code: string | undefined): { status: number; message: string } {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return { status: 431, message: "The request headers are too large." };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, message: "The request did not arrive in time." };
    case "HPE_INVALID_URL":
      return { status: 400, message: "The URL is not valid (it must be ASCII)." };
    default:
      return { status: 400, message: "The request is not valid HTTP." };
  }
}

/** `512 KiB`, `1.5 MiB`: a limit as a person reads it. */
function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const [value, unit] = n < 1024 * 1024 ? [n / 1024, "KiB"] : [n / (1024 * 1024), "MiB"];
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
}

/** Maps anything thrown to an HTTP status, headers and the OpenAI error body. */
export function toOpenAIError(
  err: unknown,
  context: ErrorContext = {},
): {
  status: number;
  headers: Record<string, string>;
  body: OpenAIErrorBody;
} {
  if (err instanceof GatewayError) {
    return {
      status: err.status,
      headers: err.headers,
      body: { error: { message: err.message, type: err.type, param: err.param, code: err.code } },
    };
  }
  // Framework errors (fastify's body parser, content-type, size limits) carry a statusCode.
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const fastifyCode = (err as { code?: unknown }).code;
    const known =
      typeof fastifyCode === "string" && Object.hasOwn(FRAMEWORK_ERRORS, fastifyCode)
        ? FRAMEWORK_ERRORS[fastifyCode]
        : undefined;
    return {
      status,
      headers: {},
      body: {
        error: {
          message: known ? known.message(context) : plainFrameworkMessage(err),
          type: "invalid_request_error",
          param: null,
          code: known ? known.code : "invalid_request",
        },
      },
    };
  }
  return {
    status: 500,
    headers: {},
    body: {
      error: { message: "Internal server error", type: "server_error", param: null, code: null },
    },
  };
}

/** A framework message not in the table: its first sentence, without error codes. */
function plainFrameworkMessage(err: unknown): string {
  const message = String((err as Error).message ?? "").replace(/\bFST_ERR_[A-Z_]+:?\s*/g, "");
  return message.trim() || "The request could not be read.";
}

/** 504: the request's deadline passed before the capability answered. */
export class DeadlineExceededError extends GatewayError {
  constructor(deadlineMs: number) {
    super(`The request did not finish within its deadline (${deadlineMs} ms); it was cancelled.`, {
      status: 504,
      type: "timeout_error",
      code: "deadline_exceeded",
    });
  }
}

/** 413: a request larger than the gateway accepts. */
export class PayloadTooLargeError extends GatewayError {
  constructor(message: string, param: string | null = null) {
    super(message, {
      status: 413,
      type: "invalid_request_error",
      code: "payload_too_large",
      param,
    });
  }
}

/** 404 for a stream that does not exist or belongs to another tenant: the same answer. */
export class StreamNotFoundError extends NotFoundError {
  constructor(streamId: string) {
    super(`No stream '${streamId.slice(0, 100)}'.`, "stream_not_found");
  }
}

/** 422: an idempotency key (or chosen stream id) was used before with a different request. */
export class IdempotencyMismatchError extends GatewayError {
  constructor() {
    super(
      "This idempotency key was already used with a different request; use a new key for a new request.",
      { status: 422, type: "invalid_request_error", code: "idempotency_key_reused" },
    );
  }
}

/** The stream was answered by a second attempt that differs from what this reader was sent. */
export class StreamInterruptedError extends GatewayError {
  constructor(streamId: string) {
    super(
      "The answer was interrupted (the worker producing it failed) and was generated again " +
        `differently; read the complete answer with GET /v1/chat/completions/${streamId} ` +
        `or replay it from the start with GET /v1/chat/completions/${streamId}/events.`,
      { status: 502, type: "server_error", code: "stream_interrupted" },
    );
  }
}

/** The gateway is stopping: the stream goes on; the client can resume it elsewhere. */
export class GatewayStoppingError extends GatewayError {
  constructor(streamId: string) {
    super(
      "The gateway is shutting down; the answer goes on: resume it with " +
        `GET /v1/chat/completions/${streamId}/events (send Last-Event-ID).`,
      {
        status: 503,
        type: "service_unavailable",
        code: "gateway_stopping",
        headers: { "retry-after": "1" },
      },
    );
  }
}
