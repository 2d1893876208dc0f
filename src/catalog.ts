import { CatalogSchema, type Capability, type Catalog } from "../contracts/index.js";

/** The catalog when none is configured: each context's chat capability, run by `echo`. */
export function defaultCatalog(): Catalog {
  return CatalogSchema.parse({
    capabilities: [
      { id: "sea", context: "sea", handler: "echo", owned_by: "sea", description: "SEA chat" },
      {
        id: "vibespro",
        context: "vibespro",
        handler: "echo",
        owned_by: "vibespro",
        description: "VibesPro chat",
      },
    ],
  });
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
}
