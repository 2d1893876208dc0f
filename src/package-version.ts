import { readFileSync } from "node:fs";

/**
 * The gateway's version, from its package.json, read once: what its servers report (MCP's and
 * the language server's `serverInfo`). From the nearest package.json named `sea-gateway` above
 * this module, so it holds when run from source (src/) and when built (dist/src/).
 */
export const PACKAGE_VERSION: string = readPackageVersion();

function readPackageVersion(): string {
  for (let dir = new URL(".", import.meta.url); ; dir = new URL("..", dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === "sea-gateway" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // No package.json here (or not ours): look further up.
    }
    if (dir.pathname === "/") return "unknown";
  }
}
