import type { ResponseRecord, ResponsesRequest } from "../../../contracts/index.js";
import type { CapabilityCatalog } from "../../catalog.js";
import { BadRequestError, ModelNotFoundError } from "../../errors.js";
import type { Principal } from "../../ports.js";
import type { WorkKind } from "../admission/door.js";
import { assertPromptWithinLimits } from "../admission/limits.js";
import { parseChatRequest, type ChatInput } from "../commands/chat-request.js";
import type { CommandWriter } from "../commands/command-writer.js";
import { runDelivery } from "../runs/run-spec.js";
import { chainItems, loadChain, type ChainLink } from "./chain.js";
import { responseIdOf } from "./ids.js";
import { parseResponsesRequest } from "./parse-request.js";
import { responseRecordOf, responsesToChat } from "./request-to-chat.js";

/** A Responses request, admitted: the chat run it becomes and what the response stores. */
export interface ResponseInput {
  request: ResponsesRequest;
  chat: ChatInput;
  record: ResponseRecord;
  responseId: string;
}

/** What a response needs to be admitted and written. */
export interface ResponseWorkDeps {
  catalog: CapabilityCatalog;
  writer: CommandWriter;
  limits: { maxMessages: number; maxPromptChars: number };
  /** One link of a `previous_response_id` chain, of the caller's tenant (null: none such). */
  link(principal: Principal, responseId: string): Promise<ChainLink | null>;
}

/** Chat parameters by the Responses parameter a client sent instead (errors name the latter). */
const RESPONSES_PARAM: readonly [RegExp, string][] = [
  [/^messages\b.*/, "input"],
  [/^response_format\b.*/, "text.format"],
  [/^max_completion_tokens$/, "max_output_tokens"],
  [/^reasoning_effort$/, "reasoning.effort"],
];

/** Runs `fn`; a 400 it throws names the Responses parameter, not the chat one it became. */
function inResponsesTerms<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof BadRequestError) || err.param === null) throw err;
    const found = RESPONSES_PARAM.find(([re]) => re.test(err.param!));
    if (!found) throw err;
    const message = err.message.replaceAll(err.param, found[1]);
    throw new BadRequestError(message, found[1], err.code ?? undefined);
  }
}

/**
 * A `POST /v1/responses` body as work for the admission door: validated as Responses (400s name
 * its parameters), its `previous_response_id` chain read (the caller's tenant only), bridged to
 * the chat request its run executes, and checked as chat requests are (model, limits, fields the
 * model's handler honours). It runs as the model's `chat_completion` command, with the response
 * record in its delivery: the command row is the response's durable record.
 */
export function responseWork(
  deps: ResponseWorkDeps,
  principal: Principal,
  streamId: string,
): WorkKind<ResponseInput, ResponseInput> {
  const responseId = responseIdOf(streamId);
  return {
    parse: async (raw) => {
      const request = parseResponsesRequest(raw);
      const previous = request.previous_response_id;
      const links = previous ? await loadChain(previous, (id) => deps.link(principal, id)) : [];
      const chain = chainItems(links);
      const { chat, tools } = responsesToChat(request, { chain });
      const input = inResponsesTerms(() => parseChatRequest(deps.catalog, chat));
      const record = responseRecordOf(request, tools, { responseId, chain });
      return { request, chat: input, record, responseId };
    },
    capability: (p) => p.chat.capability,
    notFound: (p) => new ModelNotFoundError(p.request.model),
    validate: (p) => {
      inResponsesTerms(() => assertPromptWithinLimits(p.chat.request.messages, deps.limits));
      return p;
    },
    runSpec: (input, opts) => {
      // What decides the answer: everything but how it is delivered.
      const { stream, background, store, ...answerInputs } = input.request;
      return {
        capability: input.chat.capability,
        delivery: { ...runDelivery({ background }), response: input.record },
        answerInputs,
        write: (ids, delivery) =>
          deps.writer.writeChat(input.chat, ids, delivery, opts.origin ?? {}),
      };
    },
  };
}
