import {
  CatalogSchema,
  CONTEXTS,
  type ActionCapability,
  type Capability,
  type Catalog,
  type CatalogFile,
  type ChatCapability,
  type ChatFeature,
  type ContextName,
} from "../contracts/index.js";
import { builtinActions } from "./editor/builtin-actions.js";

/**
 * What the built-in handlers honour of the request fields that shape the answer (data; a handler
 * not listed honours none): `openai` passes them to its upstream, which answers them; `echo`
 * answers its input back; `http` passes them to its service, and a catalog entry says what that
 * service honours (`honours`). README "Capability catalog" shows the same table.
 */
export const HANDLER_FEATURES: Readonly<Record<string, readonly ChatFeature[]>> = {
  echo: [],
  openai: ["response_format", "logprobs", "web_search_options"],
  http: [],
};

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
 * The handler a context's default capabilities use: the context's handler service if one is set,
 * else the OpenAI-compatible upstream if one is set, else the built-in `echo`.
 */
function defaultHandler(ctx: ContextName, inputs: DefaultCatalogInputs) {
  return inputs.handlerUrls?.[ctx] ? "http" : inputs.upstreamBaseUrl ? "openai" : "echo";
}

/** Built-in actions run by their context's default handler (upstream model: as chat sends). */
function defaultActions(inputs: DefaultCatalogInputs): ActionCapability[] {
  return builtinActions((ctx) => {
    const handler = defaultHandler(ctx, inputs);
    return handler === "openai"
      ? { handler, upstream_model: inputs.upstreamModel ?? ctx }
      : { handler };
  });
}

/** Each context's chat capability (`sea`, `vibespro`) with its default handler. */
function defaultChats(inputs: DefaultCatalogInputs) {
  return CONTEXTS.map((ctx) => {
    const handler = defaultHandler(ctx, inputs);
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
  });
}

/** The catalog when no file is configured: the default chat models and the built-in actions. */
export function defaultCatalog(inputs: DefaultCatalogInputs = {}): Catalog {
  return CatalogSchema.parse({
    capabilities: [...defaultChats(inputs), ...defaultActions(inputs)],
  });
}

/**
 * The catalog a file describes (see {@link CatalogFile}): its chat models (the default ones if it
 * lists none), the built-in actions minus `remove`, with its actions added or replacing built-in
 * ones of the same name. Returns every problem found, or the catalog.
 */
export function catalogFromFile(
  file: CatalogFile,
  inputs: DefaultCatalogInputs = {},
): { ok: true; catalog: Catalog } | { ok: false; problems: string[] } {
  const builtins = defaultActions(inputs);
  const problems = file.remove
    .filter((name) => !builtins.some((a) => a.id === name))
    .map((name) => `remove: '${name}' is not a built-in action`);
  const listed = new Set(file.capabilities.map((c) => c.id));
  const chats = file.capabilities.filter((c) => c.kind === "chat");
  const capabilities = [
    ...(chats.length > 0 ? chats : defaultChats(inputs)),
    ...builtins.filter((a) => !file.remove.includes(a.id) && !listed.has(a.id)),
    ...file.capabilities.filter((c) => c.kind === "action"),
  ];
  const parsed = CatalogSchema.safeParse({ capabilities });
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  return problems.length > 0 || !parsed.success
    ? { ok: false, problems }
    : { ok: true, catalog: parsed.data };
}

/** Model id → capability lookups over a validated catalog. */
export class CapabilityCatalog {
  private readonly byId: Map<string, Capability>;

  constructor(readonly catalog: Catalog) {
    this.byId = new Map(catalog.capabilities.map((c) => [c.id, c]));
  }

  /** Any capability by id (a stream's, whatever its kind). */
  find(modelId: string): Capability | undefined {
    return this.byId.get(modelId);
  }

  /** A chat model by id. */
  findChat(modelId: string): ChatCapability | undefined {
    const c = this.byId.get(modelId);
    return c?.kind === "chat" ? c : undefined;
  }

  /** What a chat model honours of the fields that shape the answer (see {@link HANDLER_FEATURES}). */
  honours(c: ChatCapability): readonly ChatFeature[] {
    return c.honours ?? HANDLER_FEATURES[c.handler] ?? [];
  }

  /** An editor action by name. */
  findAction(name: string): ActionCapability | undefined {
    const c = this.byId.get(name);
    return c?.kind === "action" ? c : undefined;
  }

  list(): readonly Capability[] {
    return this.catalog.capabilities;
  }

  /** Handler names the catalog uses in a context (to check they are all registered). */
  handlersOf(context: ContextName, kind?: Capability["kind"]): Set<string> {
    return new Set(
      this.list()
        .filter((c) => c.context === context && (kind === undefined || c.kind === kind))
        .map((c) => c.handler),
    );
  }
}
