import { afterAll, expect } from "vitest";
import { settleZedChecks, zedViolations } from "./helpers/zed-fetch.js";

// Every streamed response a test reads through the SDK client must be one Zed would accept.
afterAll(async () => {
  await settleZedChecks();
  expect(zedViolations).toEqual([]);
});
