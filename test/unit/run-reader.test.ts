import { describe, expect, it } from "vitest";
import type { Delivery } from "../../src/gateway/runs/attempt-sequencer.js";
import type { RunIdentity } from "../../src/gateway/runs/run-identity.js";
import { RunReader, type ReadableRun } from "../../src/gateway/runs/run-reader.js";

/** A run driven by hand: what a reader reads, and whether a resume point is safe. */
class FakeRun implements ReadableRun {
  identity = { streamId: "s1" } as RunIdentity;
  streamId = "s1";
  status = "in_progress" as const;
  background = false;
  deliveries: Delivery[] = [];
  generation = 0;
  finished = false;
  isClosed = false;
  error: Error | null = null;
  /** Up to how many chunks another attempt could not have differed. */
  agreedUpTo = Infinity;
  detached = 0;
  private changed!: () => void;
  private next = new Promise<void>((r) => (this.changed = r));

  nextChange(): Promise<void> {
    return this.next;
  }
  agreesUpTo(n: number): boolean {
    return n <= this.agreedUpTo;
  }
  keepToEnd(): void {}
  detach(): void {
    this.detached++;
  }
  push(...ds: Delivery[]): void {
    for (const d of ds) {
      if (d.kind === "reset") {
        this.generation++;
        this.deliveries = [];
      } else this.deliveries.push(d);
      if (d.kind === "completed" || d.kind === "failed") this.finished = true;
    }
    const signal = this.changed;
    this.next = new Promise<void>((r) => (this.changed = r));
    signal();
  }
}

const delta = (seq: number): Delivery => ({ kind: "delta", seq, payload: { content: `${seq}` } });
const done: Delivery = {
  kind: "completed",
  seq: 4,
  attempt: 1,
  payload: {
    message: { role: "assistant", content: "123" },
    finish_reason: "stop",
    usage: { prompt_tokens: 0, completion_tokens: 3, total_tokens: 3 },
  },
};
const seqs = (batch: Delivery[] | null) => batch?.map((d) => (d.kind === "delta" ? d.seq : d.kind));

describe("a reader's resume rules", () => {
  it("a new reader gets everything, in batches as it arrived", async () => {
    const run = new FakeRun();
    run.push(delta(1), delta(2));
    const reader = new RunReader(run, 0);
    expect(seqs(await reader.next())).toEqual([1, 2]);
    run.push(delta(3), done);
    expect(seqs(await reader.next())).toEqual([3, "completed"]);
  });

  it("a reader resuming after n chunks gets the chunks after n, then the end", async () => {
    const run = new FakeRun();
    run.push(delta(1), delta(2), delta(3), done);
    expect(seqs(await new RunReader(run, 2).next())).toEqual([3, "completed"]);
  });

  it("a reader resuming beyond what has arrived waits until it arrives", async () => {
    const run = new FakeRun();
    run.push(delta(1));
    const reader = new RunReader(run, 2);
    const next = reader.next();
    run.push(delta(2));
    run.push(delta(3));
    expect(seqs(await next)).toEqual([3]);
  });

  it("a resume point another attempt may have sent differently starts over with a reset", async () => {
    const run = new FakeRun();
    run.agreedUpTo = 1;
    run.push(delta(1), delta(2), delta(3));
    const reader = new RunReader(run, 2);
    expect(await reader.next()).toEqual([{ kind: "reset" }]);
    expect(seqs(await reader.next())).toEqual([1, 2, 3]);
  });

  it("an attempt change while reading yields one reset, then the new attempt from seq 1", async () => {
    const run = new FakeRun();
    run.push(delta(1), delta(2));
    const reader = new RunReader(run, 0);
    expect(seqs(await reader.next())).toEqual([1, 2]);
    run.push({ kind: "reset" }, delta(1));
    expect(await reader.next()).toEqual([{ kind: "reset" }]);
    expect(seqs(await reader.next())).toEqual([1]);
  });

  it("ends with null once the run is closed and everything was read", async () => {
    const run = new FakeRun();
    run.push(delta(1));
    const reader = new RunReader(run, 0);
    await reader.next();
    const next = reader.next();
    run.isClosed = true;
    run.push();
    expect(await next).toBeNull();
  });

  it("throws the run's error (a passed deadline) once what arrived is read", async () => {
    const run = new FakeRun();
    run.push(delta(1));
    run.error = new Error("deadline");
    const reader = new RunReader(run, 0);
    expect(seqs(await reader.next())).toEqual([1]);
    await expect(reader.next()).rejects.toThrow("deadline");
  });

  it("leaving tells the run once, and the reader reads nothing more", async () => {
    const run = new FakeRun();
    run.push(delta(1));
    const reader = new RunReader(run, 0);
    reader.leave();
    reader.leave();
    expect(run.detached).toBe(1);
    expect(await reader.next()).toBeNull();
  });
});
