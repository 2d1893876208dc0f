import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXPORTED_SCHEMAS, jsonSchemaText } from "../../contracts/json-schema.js";

describe("exported JSON Schema", () => {
  it.each(Object.keys(EXPORTED_SCHEMAS))("contracts/schema/%s matches the zod contract", (file) => {
    const committed = readFileSync(
      new URL(`../../contracts/schema/${file}`, import.meta.url),
      "utf8",
    );
    expect(committed, "run `npm run contracts` and commit the result").toBe(
      jsonSchemaText(EXPORTED_SCHEMAS[file]!),
    );
  });
});
