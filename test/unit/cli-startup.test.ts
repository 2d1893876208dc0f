import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { findExecutable } from "../../adapters/embedded/executable.js";
import {
  assertNatsPortFree,
  assertNatsServerInstalled,
  NatsServerMissingError,
} from "../../adapters/embedded/nats-server.js";
import { COMMANDS, parseCommand, UsageError, type CommandName } from "../../bin/cli-args.js";
import { dataDir, projectRoot, signingSecret } from "../../bin/data-dir.js";
import { failureDetail, failureLine, redactText, redactUrl } from "../../bin/failure-message.js";
import { loadConfig } from "../../src/config.js";
import { StartupError } from "../../src/startup-error.js";

/** The CLI's pieces that need no services: arguments, failure lines, the data dir, checks. */
const repo = fileURLToPath(new URL("../..", import.meta.url));
const scratch = await mkdtemp(path.join(tmpdir(), "sea-cli-unit-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

const names = Object.keys(COMMANDS) as CommandName[];

describe("CLI arguments", () => {
  it.each(names)("%s answers --help and -h", (name) => {
    expect(parseCommand(name, ["--help"])).toEqual({ help: true });
    expect(parseCommand(name, ["-h"])).toEqual({ help: true });
    expect(COMMANDS[name].usage).toMatch(new RegExp(`^usage: sea-gateway ${name}\\b`));
  });

  it.each(names)("%s refuses an unknown option in one line, with its own usage", (name) => {
    let error: unknown;
    try {
      parseCommand(name, ["--bogus"]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(`${name}: unknown option '--bogus'`);
    expect((error as UsageError).usage).toBe(COMMANDS[name].usage);
  });

  it("names a missing value and a stray argument plainly", () => {
    expect(() => parseCommand("worker", ["--context"])).toThrow(
      /^worker: option '--context' needs a value$/,
    );
    expect(() => parseCommand("up", ["now"])).toThrow(/^up: unexpected argument 'now'$/);
  });

  it("returns the option values, with defaults", () => {
    expect(parseCommand("keys create", ["--tenant", "acme", "--rpm", "5"])).toEqual({
      help: false,
      values: { tenant: "acme", rpm: "5", ttl: "30d" },
    });
    expect(parseCommand("worker", ["--context", "sea"])).toEqual({
      help: false,
      values: { context: "sea" },
    });
  });
});

describe("failure messages", () => {
  it("redact passwords in URLs, and NATS tokens given as the user", () => {
    expect(redactUrl("postgres://app:s3cret@db:5432/sea_db")).toBe(
      "postgres://app:***@db:5432/sea_db",
    );
    expect(redactUrl("postgres://app@db/sea_db")).toBe("postgres://app@db/sea_db");
    expect(redactUrl("nats://tok3n@nats:4222", { userIsSecret: true })).toBe(
      "nats://***@nats:4222",
    );
    expect(redactUrl("nats://u:p@nats:4222", { userIsSecret: true })).toBe(
      "nats://u:***@nats:4222",
    );
    expect(redactText("cannot reach postgres://a:b@h/x or nats://c:d@h:1")).toBe(
      "cannot reach postgres://a:***@h/x or nats://c:***@h:1",
    );
  });

  it("are one line, never empty, never a stack; the detail keeps the causes", () => {
    const refused = Object.assign(new Error(""), { code: "ECONNREFUSED" });
    expect(failureLine(refused)).toBe("ECONNREFUSED");
    expect(failureLine(undefined)).toBe(
      "failed without giving a reason; LOG_LEVEL=debug shows more",
    );
    expect(failureLine("plain text")).toBe("plain text");
    expect(failureLine(new Error("first line\nsecond line"))).toBe("first line");
    const wrapped = new StartupError("NATS_URL=nats://u:***@h refused", new Error("inner"));
    expect(failureLine(wrapped)).toBe("NATS_URL=nats://u:***@h refused");
    const detail = failureDetail(wrapped);
    expect(detail).toMatch(/^StartupError: NATS_URL/);
    expect(detail).toContain("caused by: Error: inner");
    expect(detail).toMatch(/\n\s+at /);
  });
});

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

  it("holds the development secret, which keys create reads but never makes", async () => {
    const empty = path.join(scratch, "empty-data");
    const config = loadConfig({ DATA_DIR: empty });
    await expect(signingSecret(config, { create: false })).rejects.toThrow(
      new StartupError(
        `no development secret at ${path.join(empty, "dev-jwt-secret")}: start the gateway once ` +
          "(npm start creates it there), or set DATA_DIR to the gateway's data directory, or " +
          "set GATEWAY_JWT_SECRET",
      ),
    );
    expect(existsSync(empty)).toBe(false);
    const made = await signingSecret(config, { create: true });
    expect(await signingSecret(config, { create: false })).toBe(made);
  });

  it("is DATA_DIR when set, relative to the working directory", () => {
    expect(dataDir(loadConfig({ DATA_DIR: "somewhere" }))).toBe(path.resolve("somewhere"));
  });
});

describe("embedded mode's checks before starting anything", () => {
  it("finds an executable on a PATH, and not a file that cannot run", async () => {
    await writeFile(path.join(scratch, "tool"), "#!/bin/sh\n");
    expect(findExecutable("tool", scratch)).toBeNull();
    await chmod(path.join(scratch, "tool"), 0o755);
    expect(findExecutable("tool", `/nonexistent${path.delimiter}${scratch}`)).toBe(
      path.join(scratch, "tool"),
    );
  });

  it("refuses a missing nats-server in one line saying what to install", () => {
    const err = (() => {
      try {
        assertNatsServerInstalled("sea-no-such-nats-server");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(NatsServerMissingError);
    expect((err as Error).message).toBe(
      "nats-server is not installed (embedded mode needs it): apt-get install nats-server, " +
        "or set NATS_URL to a NATS server with JetStream",
    );
  });

  it("refuses a NATS port something listens on, naming the variable", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    try {
      await expect(assertNatsPortFree(port, "EMBEDDED_NATS_PORT")).rejects.toThrow(
        `EMBEDDED_NATS_PORT=${port} is already in use`,
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
    await expect(assertNatsPortFree(port, "EMBEDDED_NATS_PORT")).resolves.toBeUndefined();
  });
});
