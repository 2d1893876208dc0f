import { describe, expect, it } from "vitest";
import type { CancelBroadcast } from "../../src/ports.js";
import { RunningCommands } from "../../src/worker/running-commands.js";

const quiet: CancelBroadcast = {
  announce: async () => undefined,
  listen: () => () => undefined,
};

describe("RunningCommands", () => {
  it("stops every run at shutdown, also one whose duplicate delivery came and went", () => {
    const shutdown = new AbortController();
    const running = new RunningCommands(quiet, "sea", shutdown.signal);
    const first = running.add("acme", "s1");
    // A redelivery of the same stream while the first run goes on, refused and forgotten.
    const duplicate = running.add("acme", "s1");
    duplicate.forget();
    expect(running.size).toBe(1);
    shutdown.abort(new Error("stopping"));
    expect(first.controller.signal.aborted).toBe(true);
    first.forget();
    expect(running.size).toBe(0);
  });
});
