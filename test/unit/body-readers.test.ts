import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { readNdjson, readSse } from "../../adapters/handlers/body-readers.js";

/** A body that receives `parts` one per turn of the event loop, then ends. */
function bodyOf(parts: (string | Buffer)[], end = true): PassThrough {
  const body = new PassThrough();
  void (async () => {
    for (const p of parts) {
      await new Promise((r) => setImmediate(r));
      body.write(p);
    }
    if (end) body.end();
  })();
  return body;
}

const turn = () => new Promise((r) => setImmediate(r));

/** A consumer that holds at `item` until released, recording what it was handed. */
function holdingAt(item: string) {
  const got: string[] = [];
  let release!: () => void;
  const sink = (d: string) => {
    got.push(d);
    if (d === item) return new Promise<void>((r) => (release = r));
  };
  return { got, sink, release: () => release() };
}

describe("readSse", () => {
  it("hands on whole payloads in order, across chunk and UTF-8 boundaries, up to [DONE]", async () => {
    const text = 'data: {"a":"é"}\n\ndata: two\n\ndata: [DONE]\n\ndata: after\n\n';
    const bytes = Buffer.from(text);
    // Cut inside the two-byte "é" and inside a "data:" line.
    const cut = bytes.indexOf(0xc3) + 1;
    const body = bodyOf([
      bytes.subarray(0, cut),
      bytes.subarray(cut, cut + 9),
      bytes.subarray(cut + 9),
    ]);
    const got: string[] = [];
    await readSse(body, (d) => void got.push(d));
    expect(got).toEqual(['{"a":"é"}', "two"]);
    // Read to the end: the connection stays reusable.
    expect(body.readableEnded).toBe(true);
  });

  it("waits for a returned promise before the next payload, even within one chunk", async () => {
    const body = bodyOf(["data: 1\n\ndata: 2\n\n", "data: 3\n\n"]);
    const { got, sink, release } = holdingAt("1");
    const reading = readSse(body, sink);
    for (let i = 0; i < 5; i++) await turn();
    expect(got).toEqual(["1"]);
    // The body itself waits too: nothing more is read from the socket meanwhile.
    expect(body.isPaused()).toBe(true);
    release();
    await reading;
    expect(got).toEqual(["1", "2", "3"]);
  });

  it("rejects with what the consumer throws, and destroys the body", async () => {
    const body = bodyOf(["data: 1\n\n", "data: 2\n\n"], false);
    const boom = new Error("bad chunk");
    await expect(
      readSse(body, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(body.destroyed).toBe(true);
  });

  it("rejects with a consumer's rejected promise", async () => {
    const body = bodyOf(["data: 1\n\n", "data: 2\n\n"]);
    const boom = new Error("store failed");
    const got: string[] = [];
    await expect(
      readSse(body, (d) => {
        got.push(d);
        return Promise.reject(boom);
      }),
    ).rejects.toBe(boom);
    expect(got).toEqual(["1"]);
  });

  it("rejects when the body fails or closes before its end", async () => {
    const failing = bodyOf(["data: 1\n\n"], false);
    const reset = new Error("socket hang up");
    setTimeout(() => failing.destroy(reset), 20);
    await expect(readSse(failing, () => undefined)).rejects.toBe(reset);

    const cut = bodyOf(["data: 1\n\n"], false);
    setTimeout(() => cut.destroy(), 20);
    await expect(readSse(cut, () => undefined)).rejects.toMatchObject({
      code: "ERR_STREAM_PREMATURE_CLOSE",
    });
  });

  it("resolves only after the last payload's promise settles", async () => {
    const body = bodyOf(["data: last\n\n"]);
    let settled = false;
    await readSse(body, () =>
      new Promise<void>((r) => setTimeout(r, 30)).then(() => {
        settled = true;
      }),
    );
    expect(settled).toBe(true);
  });
});

describe("readNdjson", () => {
  it("hands on each non-empty line in order, across chunks, the last without a newline too", async () => {
    const body = bodyOf(['{"a":1}\n\n{"b"', ':2}\n   \n{"c":3}']);
    const { got, sink, release } = holdingAt('{"a":1}');
    const reading = readNdjson(body, sink);
    for (let i = 0; i < 5; i++) await turn();
    expect(got).toEqual(['{"a":1}']);
    release();
    await reading;
    expect(got).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });
});
