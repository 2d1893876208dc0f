import { readFile } from "node:fs/promises";
import { CatalogSchema } from "../contracts/index.js";
import { CapabilityCatalog, defaultCatalog } from "../src/catalog.js";
import { ConfigError } from "../src/config.js";

/** Loads and validates `CAPABILITIES_FILE` (JSON), or returns the default catalog. */
export async function loadCatalog(file: string | undefined): Promise<CapabilityCatalog> {
  if (!file) return new CapabilityCatalog(defaultCatalog());
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new ConfigError([`CAPABILITIES_FILE: cannot read ${file}: ${(err as Error).message}`]);
  }
  const parsed = CatalogSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `CAPABILITIES_FILE ${i.path.join(".")}: ${i.message}`),
    );
  }
  return new CapabilityCatalog(parsed.data);
}
