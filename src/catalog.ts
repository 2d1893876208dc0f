import {
  CatalogSchema,
  CONTEXTS,
  type Capability,
  type Catalog,
  type ContextName,
} from "../contracts/index.js";

/** What decides the default catalog when no catalog file is given. */
export interface DefaultCatalogInputs {
  /** Handler service per context: that context's chat uses the `http` handler. */
  handlerUrls?: Partial<Record<ContextName, string | undefined>>;
  /** An OpenAI-compatible upstream: contexts without a handler service use `openai`. */
  upstreamBaseUrl?: string | undefined;
  /** Model id sent upstream (default: the requested model id). */
  upstreamModel?: string | undefined;
}

/**
 * The catalog when no file is configured: each context's chat capability (`sea`, `vibespro`),
 * run by the context's handler service if one is set, else by the OpenAI-compatible upstream if
 * one is set, else by the built-in `echo`.
 */
export function defaultCatalog(inputs: DefaultCatalogInputs = {}): Catalog {
  const capability = (ctx: ContextName) => {
    const handler = inputs.handlerUrls?.[ctx] ? "http" : inputs.upstreamBaseUrl ? "openai" : "echo";
    return {
      id: ctx,
      context: ctx,
      handler,
      owned_by: ctx,
      ...(handler === "openai" && inputs.upstreamModel
        ? { upstream_model: inputs.upstreamModel }
        : {}),
      description: `${ctx === "sea" ? "SEA" : "VibesPro"} chat (${handler})`,
    };
  };
  return CatalogSchema.parse({ capabilities: CONTEXTS.map(capability) });
}

/** Model id → capability lookups over a validated catalog. */
export class CapabilityCatalog {
  private readonly byId: Map<string, Capability>;

  constructor(readonly catalog: Catalog) {
    this.byId = new Map(catalog.capabilities.map((c) => [c.id, c]));
  }

  find(modelId: string): Capability | undefined {
    return this.byId.get(modelId);
  }

  list(): readonly Capability[] {
    return this.catalog.capabilities;
  }

  /** Handler names the catalog uses in a context (to check they are all registered). */
  handlersOf(context: ContextName): Set<string> {
    return new Set(
      this.list()
        .filter((c) => c.context === context)
        .map((c) => c.handler),
    );
  }
}
