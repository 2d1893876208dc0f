import { describe, expect, it } from "vitest";
import { ShutdownResultFeed } from "../../bin/shutdown-result-feed.js";
import { decodeResultEvent } from "../../src/gateway/result-decoder.js";
import type { RawResult, ResultFeed } from "../../src/ports.js";

/** A feed that records subscriptions and never delivers anything itself. */
function quietFeed(): ResultFeed & { closed: string[] } {
  const closed: string[] = [];
  return {
    closed,
    subscribe: async (subject) => ({ close: () => void closed.push(subject) }),
    replay: async () => [],
  };
}

describe("ShutdownResultFeed", () => {
  it("ends every open subscription with a decodable 503 `failed` result, and only those", async () => {
    const inner = quietFeed();
    const feed = new ShutdownResultFeed(inner);
    const got: Record<string, RawResult[]> = { a: [], b: [] };
    const a = await feed.subscribe("ns.sea.event.chat_result.v1.acme.s1", (m) => got.a!.push(m));
    await feed.subscribe("ns.sea.event.chat_result.v1.acme.s2", (m) => got.b!.push(m));
    a.close();
    expect(inner.closed).toEqual(["ns.sea.event.chat_result.v1.acme.s1"]);
    expect(feed.size).toBe(1);

    feed.endAll("The gateway is shutting down; retry the request.", 7);
    expect(got.a).toEqual([]);
    expect(got.b).toHaveLength(1);
    expect(decodeResultEvent(got.b![0]!.data)).toEqual({
      kind: "failed",
      seq: 1,
      attempt: 1,
      payload: {
        error: {
          message: "The gateway is shutting down; retry the request.",
          type: "service_unavailable",
          code: "shutting_down",
          status: 503,
          retry_after: 7,
        },
      },
    });
  });
});
