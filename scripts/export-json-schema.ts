/** Writes contracts/schema/*.json from the zod contracts (`npm run contracts`). */
import { writeFileSync } from "node:fs";
import { EXPORTED_SCHEMAS, jsonSchemaText } from "../contracts/json-schema.js";

for (const [file, schema] of Object.entries(EXPORTED_SCHEMAS)) {
  writeFileSync(new URL(`../contracts/schema/${file}`, import.meta.url), jsonSchemaText(schema));
  console.log(`contracts/schema/${file}`);
}
