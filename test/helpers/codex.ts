import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The Codex CLI for end-to-end tests. `@openai/codex` ships a ~420 MB native binary, so it is no
 * dependency of the project: tests use `CODEX_BIN` if set, else a copy cached under `.data/`
 * (installed there once by `.ci/run`, or by the first test that needs it).
 */

/** The release whose wire behaviour RESPONSES.md §7 records. */
export const CODEX_VERSION = "0.171.0";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** Where `.ci/run` and {@link codexBinary} install the pinned release. */
export const CODEX_CACHE_DIR = join(repoRoot, ".data", "codex-cli", CODEX_VERSION);

const cachedBin = join(CODEX_CACHE_DIR, "node_modules", ".bin", "codex");

/** Runs a command with stdin `/dev/null` and collects its output. */
function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ stdout, stderr, code }));
  });
}

/**
 * The codex launcher to run: `CODEX_BIN`, else the cached install, installing
 * `@openai/codex@<CODEX_VERSION>` with npm first when it is missing (into a temporary
 * directory renamed into place, so a half-done install is never used).
 */
export async function codexBinary(): Promise<string> {
  if (process.env.CODEX_BIN) return process.env.CODEX_BIN;
  if (existsSync(cachedBin)) return cachedBin;
  await mkdir(join(CODEX_CACHE_DIR, ".."), { recursive: true });
  const staging = await mkdtemp(`${CODEX_CACHE_DIR}.installing-`);
  try {
    const npm = await run("npm", [
      "install",
      "--prefix",
      staging,
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `@openai/codex@${CODEX_VERSION}`,
    ]);
    if (npm.code !== 0) {
      throw new Error(
        `Installing @openai/codex@${CODEX_VERSION} failed (set CODEX_BIN to a codex binary to skip it):\n${npm.stderr}`,
      );
    }
    // Another test process may have finished first: theirs is as good.
    if (!existsSync(cachedBin)) await rename(staging, CODEX_CACHE_DIR);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return cachedBin;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

export interface CodexRun {
  /** `config.toml` for a fresh `CODEX_HOME`. */
  config: string;
  prompt: string;
  /** Environment added to the child's (e.g. the provider's `env_key`). */
  env?: Record<string, string>;
  /** Extra `codex exec` arguments (`-c key=value`, `-s …`). */
  args?: string[];
}

/**
 * Runs `codex exec --skip-git-repo-check <prompt>` in an empty working directory with a
 * temporary `CODEX_HOME` holding `config`, stdin `/dev/null` (without a TTY it would read
 * stdin too), and returns its output and exit code. Both directories are removed afterwards.
 */
export async function codexExec(opts: CodexRun): Promise<RunResult> {
  const bin = await codexBinary();
  const home = await mkdtemp(join(tmpdir(), "codex-home-"));
  const work = await mkdtemp(join(tmpdir(), "codex-work-"));
  try {
    await writeFile(join(home, "config.toml"), opts.config);
    return await run(bin, ["exec", "--skip-git-repo-check", ...(opts.args ?? []), opts.prompt], {
      cwd: work,
      env: { ...process.env, CODEX_HOME: home, ...opts.env },
    });
  } finally {
    await rm(home, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
}

/** `examples/codex-config.toml` with its `base_url` pointed at `baseURL`. */
export async function exampleCodexConfig(baseURL: string): Promise<string> {
  const text = await readFile(join(repoRoot, "examples", "codex-config.toml"), "utf8");
  const pointed = text.replace(/^base_url = "[^"]*"/m, `base_url = "${baseURL}"`);
  if (pointed === text) throw new Error("examples/codex-config.toml has no base_url line");
  return pointed;
}
