import {
  ChatCompletionRequestSchema,
  type ChatCapability,
  type ChatCompletionRequest,
} from "../../../contracts/index.js";
import type { CapabilityCatalog } from "../../catalog.js";
import { BadRequestError, ModelNotFoundError } from "../../errors.js";
import { assertStorableText } from "../../request-text.js";
import { plainZodMessage } from "../../validation-message.js";

/** A validated chat request and the capability it names. */
export interface ChatInput {
  request: ChatCompletionRequest;
  capability: ChatCapability;
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
  // Postgres cannot store U+0000 or a lone surrogate: refuse it here, naming the field,
  // instead of failing later.
  assertStorableText(request, "request");
  if (request.n != null && request.n > 1) {
    throw new BadRequestError("Only n=1 is supported.", "n", "unsupported_value");
  }
  // Editor actions are capabilities too, but not models: they run through /v1/editor/actions.
  const capability = catalog.findChat(request.model);
  if (!capability) throw new ModelNotFoundError(request.model);
  return { request, capability };
}
