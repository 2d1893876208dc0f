import type { FastifyInstance } from "fastify";
import type { Capability, ModelList } from "../../../contracts/index.js";
import type { CapabilityCatalog } from "../../catalog.js";
import { ModelNotFoundError } from "../../errors.js";
import type { Principal } from "../../ports.js";
import { usable } from "../admission/access.js";

const CATALOG_CREATED = Math.floor(Date.UTC(2026, 0, 1) / 1000);

const modelObject = (c: Capability) => ({
  id: c.id,
  object: "model" as const,
  created: CATALOG_CREATED,
  owned_by: c.owned_by ?? c.context,
});

/** The chat models a key may use: what `/v1/models` lists (actions are listed elsewhere). */
const visibleModels = (catalog: CapabilityCatalog, p: Principal): Capability[] =>
  usable(p, catalog.list()).filter((c) => c.kind === "chat");

/** `GET /v1/models` and `GET /v1/models/{id}` (what `models.retrieve()` calls). */
export async function modelRoutes(
  app: FastifyInstance,
  opts: { catalog: CapabilityCatalog },
): Promise<void> {
  app.get("/v1/models", async (req): Promise<ModelList> => ({
    object: "list",
    data: visibleModels(opts.catalog, req.principal).map(modelObject),
  }));
  // Model ids may contain "/" (e.g. "org/model"): the wildcard takes the rest of the path.
  app.get<{ Params: { "*": string } }>("/v1/models/*", async (req) => {
    const id = req.params["*"];
    const c = visibleModels(opts.catalog, req.principal).find((m) => m.id === id);
    if (!c) throw new ModelNotFoundError(id);
    return modelObject(c);
  });
}
