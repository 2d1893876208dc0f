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

type Run = Awaited<ReturnType<typeof runCli>>;

/**
 * What a newcomer runs into, answered in one line each (issue 10), each through a real CLI
 * process. The processes are independent, so they all start at once and each test reads its
 * own; the other subcommands' arguments are covered in test/unit/cli-startup.test.ts.
 */
describe("the CLI's answers", () => {
  let dir: string;
  let busy: Server;
  let busyPort: number;
  let refusedNatsPort: number;
  let runs: Record<string, Promise<Run>>;
  const at = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "sea-cli-"));
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    busyPort = (busy.address() as { port: number }).port;
    refusedNatsPort = await freePort();
    await mkdir(at("data"));
    await mkdir(at("elsewhere"));
    await writeFile(path.join(at("data"), "dev-jwt-secret"), `${TEST_SECRET}\n`);
    const external = {
      NATS_URL: `nats://admin:hunter2@127.0.0.1:${refusedNatsPort}`,
      SEA_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/unused_sea",
      VIBESPRO_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/unused_vibespro",
      GATEWAY_JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: "warn",
    };
    runs = {
      // A broken environment proves --help is answered before configuration is read.
      upHelp: runCli(["up", "--help"], { PORT: "not-a-port" }),
      bogusOption: runCli(["keys", "create", "--bogus"], {}),
      elsewhere: runCli(
        ["keys", "create", "--tenant", "acme"],
        { DATA_DIR: at("data") },
        { cwd: at("elsewhere") },
      ),
      natsRefusedDebug: runCli(["gateway"], { ...external, LOG_LEVEL: "debug" }),
      noRole: runCli(["relay"], {
        NATS_URL: "nats://127.0.0.1:4222",
        SEA_DATABASE_URL: "postgres://no_such_role_x:pw@127.0.0.1:5432/postgres",
        VIBESPRO_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
        LOG_LEVEL: "warn",
      }),
      badCatalog: runCli(["up"], { DATA_DIR: at("caps"), CAPABILITIES_FILE: at("missing.yaml") }),
      takenNatsPort: runCli(["up"], { DATA_DIR: at("port"), EMBEDDED_NATS_PORT: String(busyPort) }),
    };
  });
  afterAll(async () => {
    await Promise.all(Object.values(runs ?? {}));
    await new Promise((r) => busy.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it("`up --help` prints its usage without reading the environment or starting anything", async () => {
    const r = await runs.upHelp!;
    expect([r.code, r.stderr, r.stdout]).toEqual([0, "", `${COMMANDS.up.usage}\n`]);
  });

  it("an unknown option is one line plus the usage, exit 2, no stack", async () => {
    const r = await runs.bogusOption!;
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `sea-gateway: keys create: unknown option '--bogus'\n\n${COMMANDS["keys create"].usage}\n`,
    );
  });

  it("keys create run in another folder signs with the gateway's development secret", async () => {
    const r = await runs.elsewhere!;
    expect(r.code, r.stderr).toBe(0);
    const { payload } = await jwtVerify(r.stdout.trim(), new TextEncoder().encode(TEST_SECRET));
    expect(payload.tenant).toBe("acme");
    expect(await readdir(at("elsewhere"))).toEqual([]);
  });

  it("a refused NATS_URL is one line naming it, password redacted; LOG_LEVEL=debug adds the stacks", async () => {
    const r = await runs.natsRefusedDebug!;
    expect(r.code).toBe(1);
    const [line, ...stacks] = r.stderr.split("\n");
    expect(line).toBe(
      `sea-gateway: NATS_URL=nats://admin:***@127.0.0.1:${refusedNatsPort} refused the ` +
        "connection: is nats-server running there?",
    );
    expect(stacks.join("\n")).toMatch(STACK);
    expect(stacks.join("\n")).toContain("CONNECTION_REFUSED");
    expect(r.stderr + r.stdout).not.toContain("hunter2");
  });

  it("a database role that does not exist is one line naming the variable, and only that line", async () => {
    // A relay needs no signing secret: none is set.
    const r = await runs.noRole!;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "sea-gateway: SEA_DATABASE_URL=postgres://no_such_role_x:***@127.0.0.1:5432/postgres " +
        'cannot connect: role "no_such_role_x" does not exist\n',
    );
  });

  it("embedded mode checks CAPABILITIES_FILE and the NATS port before starting anything", async () => {
    const [badFile, takenPort] = [await runs.badCatalog!, await runs.takenNatsPort!];
    expect(badFile.code).toBe(78);
    expect(badFile.stderr).toContain(`CAPABILITIES_FILE: cannot read ${at("missing.yaml")}`);
    expect(takenPort.code).toBe(1);
    expect(takenPort.stderr).toBe(
      `sea-gateway: EMBEDDED_NATS_PORT=${busyPort} is already in use (another sea-gateway or ` +
        "nats-server?): stop it, choose another port, or set NATS_URL to use that server\n",
    );
    // Nothing was started or created.
    for (const name of ["caps", "port"]) expect(existsSync(at(name)), name).toBe(false);
  });
});
