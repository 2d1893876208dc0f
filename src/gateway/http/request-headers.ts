import type { FastifyRequest } from "fastify";
import { isSubjectToken } from "../../../contracts/index.js";
import { BadRequestError } from "../../errors.js";
import { validTraceparent } from "../../observability/tracing.js";
import type { ClientOrigin } from "../commands/command-writer.js";

/** A header value worth recording: one printable line of at most 256 characters. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  // An unresolved placeholder ("{{LIBRECHAT_…}}") carries nothing.
  const ok = s && s.length <= 256 && /^[\x20-\x7e]+$/.test(s) && !/^\{\{.*\}\}$/.test(s);
  return ok ? s : undefined;
}

/**
 * The user and conversation a UI shell reports. LibreChat sends them when its endpoint config
 * maps `X-User-Id: "{{LIBRECHAT_USER_ID}}"` and
 * `X-Conversation-Id: "{{LIBRECHAT_BODY_CONVERSATIONID}}"` (see librechat.example.yaml).
 */
export function clientOrigin(req: FastifyRequest): ClientOrigin {
  return {
    userId: headerValue(req.headers["x-user-id"]),
    conversationId: headerValue(req.headers["x-conversation-id"]),
    traceparent: validTraceparent(req.headers.traceparent),
  };
}

/**
 * How a client names a request so a retry finds it: `Idempotency-Key` (any printable value up
 * to 255 characters, as SDK retries and Stripe-style APIs send it) or a stream id of its own
 * choosing (`X-Stream-Id`, one subject token).
 */
export function requestIdentity(req: FastifyRequest): {
  idempotencyKey?: string;
  streamId?: string;
} {
  const key = req.headers["idempotency-key"];
  const chosen = req.headers["x-stream-id"];
  const out: { idempotencyKey?: string; streamId?: string } = {};
  if (key !== undefined) {
    const k = Array.isArray(key) ? key[0] : key;
    if (!k || k.length > 255 || !/^[\x20-\x7e]+$/.test(k)) {
      throw new BadRequestError(
        "Idempotency-Key must be 1 to 255 printable ASCII characters.",
        "Idempotency-Key",
      );
    }
    out.idempotencyKey = k;
  }
  if (chosen !== undefined) {
    const s = Array.isArray(chosen) ? chosen[0] : chosen;
    if (!s || !isSubjectToken(s)) {
      throw new BadRequestError(
        "X-Stream-Id must be 1 to 64 letters, digits, '_' or '-'.",
        "X-Stream-Id",
      );
    }
    out.streamId = s;
  }
  return out;
}

/** A non-negative integer cursor from a query value or header, or a 400 naming it. */
export function cursorValue(raw: string | string[] | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const v = Array.isArray(raw) ? raw[0] : raw;
  const n = Number(v);
  if (v === undefined || v === "" || !Number.isInteger(n) || n < 0) {
    throw new BadRequestError(`'${name}' must be a non-negative integer.`, name);
  }
  return n;
}
