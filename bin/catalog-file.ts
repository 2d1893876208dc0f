import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { CatalogFileSchema } from "../contracts/index.js";
import { CapabilityCatalog, catalogFromFile, defaultCatalog } from "../src/catalog.js";
import { ConfigError, type Config } from "../src/config.js";

/**
 * Loads and validates `CAPABILITIES_FILE` (YAML or JSON; JSON is YAML), or builds the default
 * catalog from the configuration. A bad file fails boot with every problem listed.
 */
export async function loadCatalog(config: Config): Promise<CapabilityCatalog> {
  const defaults = {
    handlerUrls: config.handlerUrls,
    upstreamBaseUrl: config.upstream.baseUrl,
    upstreamModel: config.upstream.model,
  };
  const file = config.capabilitiesFile;
  if (!file) return new CapabilityCatalog(defaultCatalog(defaults));
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, "utf8"));
  } catch (err) {
    throw new ConfigError([`CAPABILITIES_FILE: cannot read ${file}: ${(err as Error).message}`]);
  }
  const parsed = CatalogFileSchema.safeParse(doc);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `CAPABILITIES_FILE ${i.path.join(".")}: ${i.message}`),
    );
  }
  const merged = catalogFromFile(parsed.data, defaults);
  if (!merged.ok) throw new ConfigError(merged.problems.map((p) => `CAPABILITIES_FILE ${p}`));
  return new CapabilityCatalog(merged.catalog);
}
