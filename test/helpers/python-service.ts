import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { stopChild, waitReady } from "./cli.js";
import { freePort } from "./outbox.js";

/** Debian's packages for the example handler service; CI (.ci/run) installs them. */
const APT_PACKAGES = "python3-fastapi python3-uvicorn";

/**
 * A Python interpreter that can import `modules`: `$PYTHON` when set, else `python3` on PATH,
 * else Debian's `/usr/bin/python3` (where apt installs python3-fastapi, even when another
 * python3 comes first on PATH). Throws a message saying what to install: a test that needs
 * Python fails loudly rather than skipping.
 */
export function findPython(modules: string[]): string {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ["python3", "/usr/bin/python3"];
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ["-c", `import ${modules.join(", ")}`], { encoding: "utf8" });
    if (r.status === 0) return python;
    const why = r.error ? "not found" : (r.stderr.trim().split("\n").at(-1) ?? `exit ${r.status}`);
    tried.push(`${python}: ${why}`);
  }
  throw new Error(
    `no Python with ${modules.join(" and ")} (${tried.join("; ")}): ` +
      `apt-get install ${APT_PACKAGES} (.ci/run does), or set PYTHON to an interpreter that has them`,
  );
}

/** A uvicorn server running an ASGI app from a directory, on a free port of 127.0.0.1. */
export class UvicornService {
  private child: ChildProcess | null = null;
  url = "";

  constructor(
    private readonly appDir: string,
    private readonly app: string,
  ) {}

  async start(): Promise<this> {
    const python = findPython(["fastapi", "uvicorn"]);
    const port = await freePort();
    this.child = spawn(
      python,
      [
        ...["-m", "uvicorn", this.app, "--app-dir", this.appDir],
        ...["--host", "127.0.0.1", "--port", String(port), "--log-level", "warning"],
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    this.url = `http://127.0.0.1:${port}`;
    // FastAPI serves its OpenAPI document once the app is up.
    await waitReady(`${this.url}/openapi.json`, this.child, 20_000);
    return this;
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child);
  }
}
