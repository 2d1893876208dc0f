import type { JetStreamClient } from "nats";
import { describe, expect, it } from "vitest";
import { subjectSpace } from "../../contracts/index.js";
import { JetStreamCommandSource } from "../../adapters/nats/command-source.js";
import { testLog } from "../helpers/env.js";

/**
 * A worker's pull requests expire in seconds: they are not replicated, so after a cluster's
 * consumer leader dies only a re-pull reaches the new leader (the chaos suite's cluster
 * scenario measures the wait: 30 to 45 s with the library's default expiry, a few seconds now).
 */
describe("the command source's pull requests", () => {
  it("expire within a few seconds, so a lost one is replaced as quickly", async () => {
    let asked: { expires?: number; max_messages?: number } | undefined;
    const js = {
      consumers: {
        get: async () => ({
          consume: async (opts: typeof asked) => {
            asked = opts;
            return {
              stop: () => undefined,
              async *[Symbol.asyncIterator]() {},
            };
          },
        }),
      },
    } as unknown as JetStreamClient;
    const source = new JetStreamCommandSource(
      js,
      subjectSpace("pull"),
      "sea",
      { batchSize: 50, maxInflight: 25, heartbeatMs: 1_000 },
      testLog,
    );
    await source.start(async () => undefined);
    await source.stop();
    expect(asked?.max_messages).toBe(25);
    expect(asked?.expires).toBeGreaterThanOrEqual(1_000); // the library's lower bound
    expect(asked?.expires).toBeLessThanOrEqual(5_000);
  });
});
