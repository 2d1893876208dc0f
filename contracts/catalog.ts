import { z } from "zod";
import {
  ACTION_INPUT_OPTIONALS,
  ACTION_OUTPUTS,
  PLACEHOLDER_PATTERN,
  PROMPT_PLACEHOLDERS,
} from "./editor.js";
import { CONTEXTS, EDITOR_ACTION_COMMAND, SUBJECT_TOKEN } from "./subjects.js";

/**
 * Request fields that shape the answer itself: a handler that ignored one would answer what the
 * client did not ask for (free text instead of JSON matching its schema, no log probabilities),
 * so a request using one its model does not honour is refused (400) instead. `logprobs` covers
 * `top_logprobs`. Every other field (sampling, limits, tools, caching and routing hints) is
 * passed on for the handler to use or ignore, as any OpenAI-compatible server may.
 */
export const CHAT_FEATURES = ["response_format", "logprobs", "web_search_options"] as const;
export type ChatFeature = (typeof CHAT_FEATURES)[number];

/**
 * The capability catalog: which model ids and editor actions exist, which context owns each,
 * which command it becomes and which handler runs it. An entry without `kind` is a chat model.
 */
export const ChatCapabilitySchema = z.object({
  kind: z.literal("chat").default("chat"),
  /** The model id clients send (`model`). */
  id: z.string().min(1).max(256),
  context: z.enum(CONTEXTS),
  /** Command name (a subject token) and version. */
  command: z.string().regex(SUBJECT_TOKEN).default("chat_completion"),
  command_version: z.number().int().positive().default(1),
  /** The handler registered in the worker: `echo`, `openai`, `http`. */
  handler: z.string().min(1),
  /** The model id sent to an upstream model, when the handler calls one. */
  upstream_model: z.string().min(1).optional(),
  /**
   * Which of {@link CHAT_FEATURES} this model honours; default: what its handler honours (the
   * `http` handler: none, unless its service says so here).
   */
  honours: z.array(z.enum(CHAT_FEATURES)).optional(),
  owned_by: z.string().min(1).optional(),
  description: z.string().optional(),
});
export type ChatCapability = z.infer<typeof ChatCapabilitySchema>;

/** An action's name: it is a URL segment, an MCP tool name and an LSP command argument. */
export const ACTION_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Placeholders in a prompt template that are not in {@link PROMPT_PLACEHOLDERS}. */
export function unknownPlaceholders(template: string): string[] {
  const known = new Set<string>(PROMPT_PLACEHOLDERS);
  return [...template.matchAll(PLACEHOLDER_PATTERN)].map((m) => m[1]!).filter((p) => !known.has(p));
}

/** An editor action (`kind: action`): always the `editor_action` command of its context. */
export const ActionCapabilitySchema = z
  .object({
    kind: z.literal("action"),
    /** The action's name. */
    id: z.string().regex(ACTION_NAME, "an action name is 1-64 of a-z, 0-9 and _, from a letter"),
    context: z.enum(CONTEXTS),
    command: z.literal(EDITOR_ACTION_COMMAND.name).default(EDITOR_ACTION_COMMAND.name),
    command_version: z
      .literal(EDITOR_ACTION_COMMAND.version)
      .default(EDITOR_ACTION_COMMAND.version),
    handler: z.string().min(1),
    upstream_model: z.string().min(1).optional(),
    owned_by: z.string().min(1).optional(),
    /** What the action does, for people and for the models that pick MCP tools. */
    description: z.string().min(1).max(1000),
    output: z.enum(ACTION_OUTPUTS).default("text"),
    /** Input fields that are optional in general but required by this action. */
    requires: z.array(z.enum(ACTION_INPUT_OPTIONALS)).default([]),
    /** The prompt model-backed handlers render; without one they use the output's default. */
    prompt: z
      .string()
      .min(1)
      .max(20_000)
      .refine((t) => unknownPlaceholders(t).length === 0, {
        message: `unknown placeholder; use {{${PROMPT_PLACEHOLDERS.join("}}, {{")}}}`,
      })
      .optional(),
  })
  .refine((a) => a.handler !== "openai" || a.upstream_model !== undefined, {
    message: "an action run by the openai handler needs upstream_model (the model to call)",
    path: ["upstream_model"],
  });
export type ActionCapability = z.infer<typeof ActionCapabilitySchema>;

/** One catalog entry: a chat model (the default kind) or an editor action. */
export const CapabilitySchema = z.discriminatedUnion("kind", [
  ChatCapabilitySchema,
  ActionCapabilitySchema,
]);
export type Capability = z.infer<typeof CapabilitySchema>;

export const CatalogSchema = z
  .object({ capabilities: z.array(CapabilitySchema).min(1) })
  .refine((c) => new Set(c.capabilities.map((x) => x.id)).size === c.capabilities.length, {
    message: "capability ids must be unique",
  });
export type Catalog = z.infer<typeof CatalogSchema>;

/**
 * A `CAPABILITIES_FILE`: its chat models replace the default ones (when it lists any); its
 * actions are added to the built-in actions, replacing one of the same name; `remove` drops
 * built-in actions by name.
 */
export const CatalogFileSchema = z.object({
  capabilities: z.array(CapabilitySchema).default([]),
  remove: z.array(z.string().regex(ACTION_NAME)).default([]),
});
export type CatalogFile = z.infer<typeof CatalogFileSchema>;
