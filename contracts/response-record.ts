import { z } from "zod";
import { EchoedToolSchema } from "./response-object.js";
import { ReasoningConfigSchema, ResponseToolChoiceSchema, TextConfigSchema } from "./responses.js";

/**
 * What a response keeps so that any gateway instance can serve it later (object, stream,
 * `input_items`, the next link of a `previous_response_id` chain). It rides in the chat command's
 * `delivery.response`: the command row in the outbox is the response's durable record, read back
 * with the stream like `background` is. The model, `created_at` (the command's time), `background`
 * and the output (the run's deltas and terminal event) are the run's own and not repeated here.
 * Only what the request set is stored; defaults are filled when the object is built.
 */
export const ResponseRecordSchema = z.object({
  /**
   * This request's own input items (not the chain's), each with an `id`: the client's own or
   * one minted from the response id and position. Fields we do not read are kept as sent.
   */
  input: z.array(z.looseObject({ type: z.string(), id: z.string() })),
  instructions: z.string().optional(),
  previous_response_id: z.string().optional(),
  /** The function tools offered, as echoed (namespace functions under their flat names). */
  tools: z.array(EchoedToolSchema).optional(),
  /** Chat function names that stand for `custom` tools: their calls are `custom_tool_call`s. */
  custom_tools: z.array(z.string()).optional(),
  /** Flat chat function name → `[namespace, name]` for functions of `namespace` tools. */
  namespaced_tools: z.record(z.string(), z.tuple([z.string(), z.string()])).optional(),
  tool_choice: ResponseToolChoiceSchema.optional(),
  parallel_tool_calls: z.boolean().optional(),
  text: TextConfigSchema.optional(),
  reasoning: ReasoningConfigSchema.optional(),
  max_output_tokens: z.number().int().optional(),
  max_tool_calls: z.number().int().optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_logprobs: z.number().int().optional(),
  truncation: z.enum(["auto", "disabled"]).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  /** Echoed only; every response is stored whatever the client says. */
  store: z.boolean().optional(),
  safety_identifier: z.string().optional(),
  prompt_cache_key: z.string().optional(),
});
export type ResponseRecord = z.infer<typeof ResponseRecordSchema>;
