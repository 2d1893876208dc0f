import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { CatalogSchema } from "../contracts/index.js";
import { CapabilityCatalog, defaultCatalog } from "../src/catalog.js";
import { ConfigError, type Config } from "../src/config.js";

/**
 * Loads and validates `CAPABILITIES_FILE` (YAML or JSON; JSON is YAML), or builds the default
 * catalog from the configuration. A bad file fails boot with every problem listed.
 */
export async function loadCatalog(config: Config): Promise<CapabilityCatalog> {
  const file = config.capabilitiesFile;
  if (!file) {
    return new CapabilityCatalog(
      defaultCatalog({
        handlerUrls: config.handlerUrls,
        upstreamBaseUrl: config.upstream.baseUrl,
        upstreamModel: config.upstream.model,
      }),
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, "utf8"));
  } catch (err) {
    throw new ConfigError([`CAPABILITIES_FILE: cannot read ${file}: ${(err as Error).message}`]);
  }
  const parsed = CatalogSchema.safeParse(doc);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `CAPABILITIES_FILE ${i.path.join(".")}: ${i.message}`),
    );
  }
  return new CapabilityCatalog(parsed.data);
}
