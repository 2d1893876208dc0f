import {
  ChatCompletionRequestSchema,
  type ChatCapability,
  type ChatCompletionRequest,
  type ChatFeature,
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
 * The first request field the model cannot answer as asked, with why (null if none): fields the
 * gateway never carries back (deprecated functions, audio output), and fields that shape the
 * answer which the model's handler does not honour (`honours`, from the catalog). Refusing them
 * beats answering as if they were not there (free text to `client.chat.completions.parse()`).
 */
export function unansweredParam(
  request: ChatCompletionRequest,
  model: string,
  honours: readonly ChatFeature[],
): { param: string; message: string } | null {
  if (request.functions != null || request.function_call != null) {
    const param = request.functions != null ? "functions" : "function_call";
    return { param, message: `'${param}' is deprecated and not supported; use 'tools'.` };
  }
  if (request.audio != null || request.modalities?.includes("audio")) {
    const param = request.audio != null ? "audio" : "modalities";
    return { param, message: `Audio output is not supported ('${param}'): answers are text.` };
  }
  const asked: [string, ChatFeature, boolean][] = [
    ["response_format", "response_format", (request.response_format?.type ?? "text") !== "text"],
    ["logprobs", "logprobs", request.logprobs === true],
    ["top_logprobs", "logprobs", request.top_logprobs != null],
    ["web_search_options", "web_search_options", request.web_search_options != null],
  ];
  const param = asked.find(([, feature, on]) => on && !honours.includes(feature))?.[0];
  if (param === undefined) return null;
  const honoured = honours.length > 0 ? `it honours ${honours.join(", ")}` : "it honours none";
  return {
    param,
    message: `The model '${model}' does not support '${param}' (${honoured}); send the request without it, or use a model that does.`,
  };
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
  const refused = unansweredParam(request, capability.id, catalog.honours(capability));
  if (refused) throw new BadRequestError(refused.message, refused.param, "unsupported_parameter");
  return { request, capability };
}
