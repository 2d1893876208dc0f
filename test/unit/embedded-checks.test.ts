import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findExecutable } from "../../adapters/embedded/executable.js";
import {
  assertNatsPortFree,
  assertNatsServerInstalled,
  NatsServerMissingError,
} from "../../adapters/embedded/nats-server.js";

const scratch = await mkdtemp(path.join(tmpdir(), "sea-exec-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

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
