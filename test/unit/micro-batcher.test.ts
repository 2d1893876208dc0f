import { describe, expect, it } from "vitest";
import { MicroBatcher } from "../../src/micro-batcher.js";

describe("MicroBatcher", () => {
  it("runs the calls of one turn as one batch, in order, and each gets its own result", async () => {
    const batches: number[][] = [];
    const b = new MicroBatcher<number, number>(async (xs) => {
      batches.push(xs);
      return xs.map((x) => x * 10);
    });
    const first = await Promise.all([b.submit(1), b.submit(2), b.submit(3)]);
    expect(first).toEqual([10, 20, 30]);
    expect(await b.submit(4)).toBe(40);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it("caps a batch's size", async () => {
    const sizes: number[] = [];
    const b = new MicroBatcher<number, number>(async (xs) => {
      sizes.push(xs.length);
      return xs;
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((x) => b.submit(x)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it("fails every call of a failed batch", async () => {
    const b = new MicroBatcher<number, number>(async () => {
      throw new Error("db down");
    });
    const results = await Promise.allSettled([b.submit(1), b.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });
});
