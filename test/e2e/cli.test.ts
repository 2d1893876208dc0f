import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../bin/cli-args.js";
import { runCli } from "../helpers/cli.js";
import { TEST_SECRET } from "../helpers/env.js";
import { freePort } from "../helpers/outbox.js";

/** A stack trace line, which the CLI prints only with LOG_LEVEL=debug. */
const STACK = /\n\s+at /;

/** What a newcomer runs into, answered in one line each (issue 10). */
describe("the CLI's answers", () => {
  let dir: string;
  let busy: Server;
  let busyPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "sea-cli-"));
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => busy.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it("`up --help` prints its usage without reading the environment or starting anything", async () => {
    // A broken environment proves --help is answered before configuration is read; the other
    // subcommands' help is covered in test/unit/cli-args.test.ts.
    const r = await runCli(["up", "--help"], { PORT: "not-a-port" });
    expect([r.code, r.stderr, r.stdout]).toEqual([0, "", `${COMMANDS.up.usage}\n`]);
  });

  it("an unknown option is one line plus the usage, exit 2, no stack", async () => {
    const r = await runCli(["keys", "create", "--bogus"], {});
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `sea-gateway: keys create: unknown option '--bogus'\n\n${COMMANDS["keys create"].usage}\n`,
    );
  });

  it("keys create never makes a new secret: it refuses in one line naming where the secret is expected", async () => {
    const empty = path.join(dir, "empty-data");
    const r = await runCli(["keys", "create", "--tenant", "acme"], { DATA_DIR: empty });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim()).toBe(
      `sea-gateway: no development secret at ${path.join(empty, "dev-jwt-secret")}: start the ` +
        "gateway once (npm start creates it there), or set DATA_DIR to the gateway's data " +
        "directory, or set GATEWAY_JWT_SECRET",
    );
    expect(existsSync(empty)).toBe(false);
  });

  it("keys create run in another folder signs with the gateway's development secret", async () => {
    const data = path.join(dir, "data");
    const elsewhere = path.join(dir, "elsewhere");
    await rm(elsewhere, { recursive: true, force: true });
    await writeFile(path.join(await mkdirp(data), "dev-jwt-secret"), `${TEST_SECRET}\n`);
    await mkdirp(elsewhere);
    const r = await runCli(
      ["keys", "create", "--tenant", "acme"],
      { DATA_DIR: data },
      { cwd: elsewhere },
    );
    expect(r.code, r.stderr).toBe(0);
    const { payload } = await jwtVerify(r.stdout.trim(), new TextEncoder().encode(TEST_SECRET));
    expect(payload.tenant).toBe("acme");
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it("a refused NATS_URL is one line naming it, password redacted; the stack only with LOG_LEVEL=debug", async () => {
    const port = await freePort();
    const env = {
      NATS_URL: `nats://admin:hunter2@127.0.0.1:${port}`,
      SEA_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/unused_sea",
      VIBESPRO_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/unused_vibespro",
      GATEWAY_JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: "warn",
    };
    const [plain, debug] = await Promise.all([
      runCli(["gateway"], env),
      runCli(["gateway"], { ...env, LOG_LEVEL: "debug" }),
    ]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe(
      `sea-gateway: NATS_URL=nats://admin:***@127.0.0.1:${port} refused the connection: ` +
        "is nats-server running there?\n",
    );
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(STACK);
    expect(debug.stderr).toContain("CONNECTION_REFUSED");
    expect(plain.stderr + plain.stdout + debug.stderr + debug.stdout).not.toContain("hunter2");
  });

  it("a database role that does not exist is one line naming the variable", async () => {
    const r = await runCli(["relay"], {
      NATS_URL: "nats://127.0.0.1:4222",
      SEA_DATABASE_URL: "postgres://no_such_role_x:pw@127.0.0.1:5432/postgres",
      VIBESPRO_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
      GATEWAY_JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: "warn",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "sea-gateway: SEA_DATABASE_URL=postgres://no_such_role_x:***@127.0.0.1:5432/postgres " +
        'cannot connect: role "no_such_role_x" does not exist\n',
    );
  });

  it("embedded mode checks CAPABILITIES_FILE and the NATS port before starting anything", async () => {
    const data = (name: string) => path.join(dir, name);
    const [badFile, takenPort] = await Promise.all([
      runCli(["up"], { DATA_DIR: data("caps"), CAPABILITIES_FILE: data("missing.yaml") }),
      runCli(["up"], { DATA_DIR: data("port"), EMBEDDED_NATS_PORT: String(busyPort) }),
    ]);
    expect(badFile.code).toBe(78);
    expect(badFile.stderr).toContain(`CAPABILITIES_FILE: cannot read ${data("missing.yaml")}`);
    expect(takenPort.code).toBe(1);
    expect(takenPort.stderr).toBe(
      `sea-gateway: EMBEDDED_NATS_PORT=${busyPort} is already in use (another sea-gateway or ` +
        "nats-server?): stop it, choose another port, or set NATS_URL to use that server\n",
    );
    // Nothing was started or created.
    for (const name of ["caps", "port"]) expect(existsSync(data(name)), name).toBe(false);
  });
});

async function mkdirp(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}
