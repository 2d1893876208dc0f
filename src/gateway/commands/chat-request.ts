import {
  ChatCompletionRequestSchema,
  type ChatCapability,
  type ChatCompletionRequest,
} from "../../../contracts/index.js";
import type { CapabilityCatalog } from "../../catalog.js";
import { BadRequestError, ModelNotFoundError } from "../../errors.js";
import { plainZodMessage } from "../../validation-message.js";

/** A validated chat request and the capability it names. */
export interface ChatInput {
  request: ChatCompletionRequest;
  capability: ChatCapability;
}

/** True if any string in `value` contains U+0000. */
export function containsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\0");
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsNul);
  return false;
}

/**
 * Validates a raw Chat Completions body: 400 naming the field ({@link BadRequestError}), or 404
 * for a model the catalog does not have ({@link ModelNotFoundError}).
 */
export function parseChatRequest(catalog: CapabilityCatalog, body: unknown): ChatInput {
  const parsed = ChatCompletionRequestSchema.safeParse(body);
  if (!parsed.success) {
    const { message, param } = plainZodMessage(parsed.error);
    throw new BadRequestError(`Invalid request: ${message}.`, param);
  }
  const request = parsed.data;
  // Postgres cannot store U+0000 in jsonb: refuse it here, clearly, instead of failing later.
  if (containsNul(request)) {
    throw new BadRequestError(
      "The request contains a NUL character (U+0000), which is not supported.",
      null,
      "unsupported_character",
    );
  }
  if (request.n != null && request.n > 1) {
    throw new BadRequestError("Only n=1 is supported.", "n", "unsupported_value");
  }
  // Editor actions are capabilities too, but not models: they run through /v1/editor/actions.
  const capability = catalog.findChat(request.model);
  if (!capability) throw new ModelNotFoundError(request.model);
  return { request, capability };
}
