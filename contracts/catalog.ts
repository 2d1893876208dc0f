import { z } from "zod";
import { CONTEXTS, SUBJECT_TOKEN } from "./subjects.js";

/**
 * The capability catalog: which model ids exist, which context owns each, which command it
 * becomes and which handler runs it.
 */
export const CapabilitySchema = z.object({
  /** The model id clients send (`model`). */
  id: z.string().min(1).max(256),
  context: z.enum(CONTEXTS),
  /** Command name (a subject token) and version. */
  command: z.string().regex(SUBJECT_TOKEN).default("chat_completion"),
  command_version: z.number().int().positive().default(1),
  /** The handler registered in the worker: `echo`, later `openai`, `http`. */
  handler: z.string().min(1),
  /** The model id sent to an upstream model, when the handler calls one. */
  upstream_model: z.string().min(1).optional(),
  owned_by: z.string().min(1).optional(),
  description: z.string().optional(),
});
export type Capability = z.infer<typeof CapabilitySchema>;

export const CatalogSchema = z
  .object({ capabilities: z.array(CapabilitySchema).min(1) })
  .refine((c) => new Set(c.capabilities.map((x) => x.id)).size === c.capabilities.length, {
    message: "capability ids must be unique",
  });
export type Catalog = z.infer<typeof CatalogSchema>;
