import { describe, expect, it } from "vitest";
import {
  InputItemListSchema,
  ResponseObjectSchema,
  type ResponseRecord,
} from "../../contracts/index.js";
import { toOpenAIError } from "../../src/errors.js";
import { chainItems, loadChain, type ChainLink } from "../../src/gateway/responses/chain.js";
import { ResponseNotFoundError } from "../../src/gateway/responses/errors.js";
import {
  callIdOf,
  inputItemId,
  outputItemId,
  responseIdOf,
  streamIdOfResponse,
} from "../../src/gateway/responses/ids.js";
import { listInputItems, parseInputItemsQuery } from "../../src/gateway/responses/input-items.js";
import { parseResponsesRequest } from "../../src/gateway/responses/parse-request.js";
import { responseRecordOf, responsesToChat } from "../../src/gateway/responses/request-to-chat.js";
import {
  buildResponseObject,
  deletedResponse,
  responseUsageOf,
  type ResponseContext,
} from "../../src/gateway/responses/response-object.js";

const ctx = (record: ResponseRecord, background = false): ResponseContext => ({
  id: "resp_s1",
  model: "sea",
  createdAt: 1_700_000_000,
  background,
  record,
});
const recordOf = (body: Record<string, unknown>) => {
  const req = parseResponsesRequest({ model: "sea", input: "hi", ...body });
  return responseRecordOf(req, responsesToChat(req).tools, { responseId: "resp_s1" });
};

describe("buildResponseObject", () => {
  it("has every key Open Responses requires, with OpenAI's defaults and nothing null that must not be", () => {
    const r = buildResponseObject(ctx(recordOf({})), { status: "in_progress" });
    expect(ResponseObjectSchema.safeParse(r).success).toBe(true);
    expect(r).toEqual({
      id: "resp_s1",
      object: "response",
      created_at: 1_700_000_000,
      completed_at: null,
      status: "in_progress",
      model: "sea",
      output: [],
      error: null,
      incomplete_details: null,
      instructions: null,
      metadata: {},
      previous_response_id: null,
      background: false,
      store: true,
      tools: [],
      tool_choice: "auto",
      parallel_tool_calls: true,
      temperature: 1,
      top_p: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
      top_logprobs: 0,
      max_output_tokens: null,
      max_tool_calls: null,
      reasoning: null,
      text: { format: { type: "text" } },
      truncation: "disabled",
      usage: null,
      service_tier: "default",
      safety_identifier: null,
      prompt_cache_key: null,
    });
  });

  it("echoes what the request set (not the accepted-and-ignored tools)", () => {
    const r = buildResponseObject(
      ctx(
        recordOf({
          instructions: "Be terse.",
          previous_response_id: "resp_prev",
          metadata: { k: "v" },
          store: false,
          temperature: 0.3,
          top_p: 0.5,
          max_output_tokens: 99,
          max_tool_calls: 4,
          top_logprobs: 2,
          truncation: "auto",
          reasoning: { effort: "low" },
          text: {
            format: { type: "json_schema", name: "out", schema: { type: "object" } },
            verbosity: "low",
          },
          tool_choice: "required",
          parallel_tool_calls: false,
          safety_identifier: "sid",
          prompt_cache_key: "pck",
          tools: [
            { type: "function", name: "f" },
            {
              type: "namespace",
              name: "ns",
              tools: [
                {
                  type: "function",
                  name: "g",
                  description: "G",
                  parameters: { type: "object" },
                  strict: true,
                },
              ],
            },
            { type: "custom", name: "apply_patch" },
            { type: "web_search" },
          ],
        }),
        true,
      ),
      { status: "queued" },
    );
    expect(ResponseObjectSchema.safeParse(r).success).toBe(true);
    expect(r).toMatchObject({
      instructions: "Be terse.",
      previous_response_id: "resp_prev",
      metadata: { k: "v" },
      background: true,
      store: false,
      temperature: 0.3,
      top_p: 0.5,
      max_output_tokens: 99,
      max_tool_calls: 4,
      top_logprobs: 2,
      truncation: "auto",
      reasoning: { effort: "low", summary: null },
      text: {
        format: {
          type: "json_schema",
          name: "out",
          schema: { type: "object" },
          description: null,
          strict: false,
        },
        verbosity: "low",
      },
      tool_choice: "required",
      parallel_tool_calls: false,
      safety_identifier: "sid",
      prompt_cache_key: "pck",
    });
    expect(r.tools).toEqual([
      { type: "function", name: "f", description: null, parameters: null, strict: null },
      {
        type: "function",
        name: "ns__g",
        description: "G",
        parameters: { type: "object" },
        strict: true,
      },
    ]);
  });

  it.each<[string, Parameters<typeof responseUsageOf>[0], ReturnType<typeof responseUsageOf>]>([
    [
      "plain chat usage: the detail objects whole, zero",
      { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
      {
        input_tokens: 3,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 4,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 7,
      },
    ],
    [
      "an upstream's cached and reasoning tokens",
      {
        prompt_tokens: 30,
        completion_tokens: 40,
        total_tokens: 70,
        prompt_tokens_details: { cached_tokens: 10 },
        completion_tokens_details: { reasoning_tokens: 25 },
      },
      {
        input_tokens: 30,
        input_tokens_details: { cached_tokens: 10 },
        output_tokens: 40,
        output_tokens_details: { reasoning_tokens: 25 },
        total_tokens: 70,
      },
    ],
  ])("usage: %s", (_n, chat, expected) => {
    expect(responseUsageOf(chat)).toEqual(expected);
  });
});

describe("ids", () => {
  it("derive from the stream id, are reversible for the response, and never look like chat's", () => {
    expect(responseIdOf("0c5e-1")).toBe("resp_0c5e-1");
    expect(streamIdOfResponse("resp_0c5e-1")).toBe("0c5e-1");
    expect(streamIdOfResponse("chatcmpl-0c5e-1")).toBeNull();
    expect(streamIdOfResponse("resp_")).toBeNull();
    expect(outputItemId("resp_0c5e-1", "message", 2)).toBe("msg_0c5e-1_2");
    expect(outputItemId("resp_0c5e-1", "reasoning", 0)).toBe("rs_0c5e-1_0");
    expect(outputItemId("resp_0c5e-1", "function_call", 1)).toBe("fc_0c5e-1_1");
    expect(inputItemId("resp_0c5e-1", "function_call_output", 3)).toBe("fco_0c5e-1_in3");
    expect(callIdOf("resp_0c5e-1", 0)).toBe("call_0c5e-1_0");
  });

  it("DELETE answers the deleted marker the SDK expects", () => {
    expect(deletedResponse("resp_x")).toEqual({
      id: "resp_x",
      object: "response.deleted",
      deleted: true,
    });
  });

  it("a missing response is a 404 naming it", () => {
    const e = toOpenAIError(new ResponseNotFoundError("resp_x"));
    expect(e.status).toBe(404);
    expect(e.body.error).toEqual({
      message: "Response with id 'resp_x' not found.",
      type: "invalid_request_error",
      param: null,
      code: "response_not_found",
    });
  });
});

describe("input_items: cursor pages", () => {
  const items = ["a", "b", "c", "d", "e"].map((id) => ({
    type: "message",
    id,
    role: "user",
    content: id,
  }));
  const page = (q: Record<string, unknown>) => {
    const list = listInputItems(items, parseInputItemsQuery(q));
    expect(InputItemListSchema.safeParse(list).success).toBe(true);
    return [list.data.map((i) => i.id).join(""), list.first_id, list.last_id, list.has_more];
  };

  it.each<[string, Record<string, unknown>, unknown[]]>([
    ["default: newest first, 20", {}, ["edcba", "e", "a", false]],
    ["asc", { order: "asc" }, ["abcde", "a", "e", false]],
    ["limit 2", { limit: "2" }, ["ed", "e", "d", true]],
    ["after, desc", { limit: "2", after: "d" }, ["cb", "c", "b", true]],
    ["after, asc, to the end", { order: "asc", limit: "3", after: "c" }, ["de", "d", "e", false]],
    ["after the last item", { order: "asc", after: "e" }, ["", null, null, false]],
    ["repeated query keys take the last", { limit: ["1", "3"] }, ["edc", "e", "c", true]],
    [
      "include[] accepted",
      { "include[]": "message.output_text.logprobs" },
      ["edcba", "e", "a", false],
    ],
  ])("%s", (_n, q, expected) => {
    expect(page(q)).toEqual(expected);
  });

  it.each<[Record<string, unknown>, string]>([
    [{ limit: "0" }, "limit"],
    [{ limit: "101" }, "limit"],
    [{ limit: "ten" }, "limit"],
    [{ order: "newest" }, "order"],
    [{ after: "zzz" }, "after"],
  ])("%j is a 400 naming %s", (q, param) => {
    let err: unknown;
    try {
      listInputItems(items, parseInputItemsQuery(q));
    } catch (e) {
      err = e;
    }
    const { status, body } = toOpenAIError(err);
    expect([status, body.error.param]).toEqual([400, param]);
  });
});

describe("previous_response_id chains", () => {
  const link = (id: string, previous?: string): ChainLink => ({
    record: {
      input: [{ type: "message", id: `msg_${id}_in0`, role: "user", content: id }],
      ...(previous ? { previous_response_id: previous } : {}),
    },
    output: [
      {
        id: `msg_${id}_0`,
        type: "message",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: `re ${id}`, annotations: [] }],
      },
    ],
  });
  const store = new Map([
    ["resp_a", link("a")],
    ["resp_b", link("b", "resp_a")],
    ["resp_c", link("c", "resp_b")],
    ["resp_broken", link("x", "resp_gone")],
  ]);
  const load = (id: string) => Promise.resolve(store.get(id) ?? null);

  it("walks back to the first response and lists inputs and outputs oldest first", async () => {
    const links = await loadChain("resp_c", load);
    expect(chainItems(links).map((i) => i.id)).toEqual([
      "msg_a_in0",
      "msg_a_0",
      "msg_b_in0",
      "msg_b_0",
      "msg_c_in0",
      "msg_c_0",
    ]);
  });

  it("an unknown (or another tenant's) id is a 400 previous_response_not_found", async () => {
    for (const id of ["resp_nope", "resp_broken"]) {
      const err = await loadChain(id, load).catch((e: unknown) => e);
      const { status, body } = toOpenAIError(err);
      expect([status, body.error.param, body.error.code]).toEqual([
        400,
        "previous_response_id",
        "previous_response_not_found",
      ]);
    }
  });

  it("the chain's turns reach the model before the new input; instructions are not inherited", async () => {
    const req = parseResponsesRequest({
      model: "sea",
      input: "next",
      instructions: "New rules.",
      previous_response_id: "resp_b",
    });
    const { chat } = responsesToChat(req, { chain: chainItems(await loadChain("resp_b", load)) });
    expect(chat.messages).toEqual([
      { role: "system", content: "New rules." },
      { role: "user", content: "a" },
      { role: "assistant", content: "re a" },
      { role: "user", content: "b" },
      { role: "assistant", content: "re b" },
      { role: "user", content: "next" },
    ]);
  });
});
