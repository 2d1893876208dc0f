import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { dataDir, projectRoot } from "../../bin/data-dir.js";
import { loadConfig } from "../../src/config.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const scratch = await mkdtemp(path.join(tmpdir(), "sea-datadir-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe("the data directory", () => {
  it("defaults to .data in the project folder, wherever the command is typed", () => {
    expect(projectRoot()).toBe(path.resolve(repo));
    expect(dataDir(loadConfig({}))).toBe(path.join(repo, ".data"));
  });

  it("is found from compiled code too (dist/bin → the folder holding package.json)", async () => {
    await mkdir(path.join(scratch, "dist", "bin"), { recursive: true });
    await writeFile(path.join(scratch, "package.json"), "{}");
    expect(projectRoot(path.join(scratch, "dist", "bin"))).toBe(scratch);
  });

  it("is DATA_DIR when set, relative to the working directory", () => {
    expect(dataDir(loadConfig({ DATA_DIR: "somewhere" }))).toBe(path.resolve("somewhere"));
  });
});
