import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ENV_VARIABLES, envDefaults } from "../../src/config.js";

/** README.md says what the code does: the configuration table, the links, the first commands. */
const root = fileURLToPath(new URL("../..", import.meta.url));
const readme = readFileSync(`${root}/README.md`, "utf8");

/** The configuration table: variable name → its default cell. */
function configurationTable(): Map<string, string> {
  const section = readme.split("## Configuration")[1]!.split("\n## ")[0]!;
  const rows = new Map<string, string>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    const name = /^`([A-Z0-9_]+)`$/.exec(cells[1] ?? "")?.[1];
    if (name) rows.set(name, cells[2]!);
  }
  return rows;
}

describe("README.md", () => {
  it("lists every environment variable the code reads, each with its default", () => {
    const table = configurationTable();
    expect(ENV_VARIABLES.filter((v) => !table.has(v))).toEqual([]);
    expect([...table.keys()].filter((v) => !ENV_VARIABLES.includes(v))).toEqual([]);
    for (const [name, value] of Object.entries(envDefaults())) {
      expect(table.get(name), name).toContain(`\`${String(value)}\``);
    }
  });

  it("links nowhere outside the repository", () => {
    const hosts = [...readme.matchAll(/https?:\/\/([^/:\s`'")]+)/g)].map((m) => m[1]);
    const local = new Set(["127.0.0.1", "localhost", "host.docker.internal", "0.0.0.0"]);
    expect(hosts.filter((h) => !local.has(h!))).toEqual([]);
    expect(readme).not.toContain("../");
    for (const [, target] of readme.matchAll(/\]\(([^)#][^)]*)\)/g)) {
      expect(existsSync(`${root}/${target}`), target).toBe(true);
    }
  });

  it("opens with the two commands, and they do what it says", () => {
    expect(readme).toMatch(
      /^# sea-gateway\n\n```sh\nnpm install && npm start {3}# .*\nnpm test {19}# /,
    );
    const scripts = (
      JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    expect(scripts.start).toMatch(/sea-gateway\.js up$/);
    expect(scripts.test).toBe("vitest run");
  });
});
