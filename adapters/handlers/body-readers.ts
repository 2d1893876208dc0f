import { finished, type Readable } from "node:stream";
import { createParser } from "eventsource-parser";

/** What a body reader hands on: a promise only when the reader must wait (back-pressure). */
type Sink<T> = (item: T) => void | Promise<void>;

/**
 * Splits `body`'s text into items with `split` (which keeps any incomplete tail for the next
 * call) and hands each to `onItem` in order, waiting for a promise `onItem` returns before the
 * next item (the body pauses meanwhile). Resolves at the end of the body; rejects with the
 * body's error (a reset, an abort, a premature close) or with what `onItem` throws, and destroys
 * the body then.
 *
 * Events rather than `for await`: a model's answer comes in hundreds of small chunks, and the
 * async iterator costs promises and a turn of the microtask queue for each one.
 */
function readItems(
  body: Readable,
  split: (text: string) => string[],
  onItem: Sink<string>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder();
    const queue: string[] = [];
    let waiting = false;
    let ended = false;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      body.off("data", onChunk);
      body.destroy();
      reject(err);
    };
    /** Hands on what is queued; stops (paused) at the first promise, and goes on when it settles. */
    const drain = (): void => {
      try {
        while (queue.length > 0) {
          const r = onItem(queue.shift()!);
          if (!r) continue;
          waiting = true;
          body.pause();
          r.then(() => {
            waiting = false;
            if (failed) return;
            drain();
            if (!waiting && !failed) {
              if (ended) resolve();
              else body.resume();
            }
          }, fail);
          return;
        }
      } catch (err) {
        fail(err);
      }
    };
    const onChunk = (chunk: Buffer) => {
      if (failed) return;
      for (const item of split(decoder.decode(chunk, { stream: true }))) queue.push(item);
      if (!waiting) drain();
    };
    body.on("data", onChunk);
    finished(body, (err) => {
      if (err) return fail(err);
      ended = true;
      if (!waiting && !failed) resolve();
    });
  });
}

/**
 * Calls `onData` with each SSE `data:` payload of a streamed body (`[DONE]` ends it), in order;
 * a promise `onData` returns is waited for before the next payload.
 */
export function readSse(body: Readable, onData: Sink<string>): Promise<void> {
  let found: string[] = [];
  let done = false;
  const parser = createParser({
    onEvent: (ev) => {
      if (ev.data === "[DONE]") done = true;
      else if (!done) found.push(ev.data);
    },
  });
  // Read to the end even after [DONE]: leaving early would destroy the response, and with it
  // the keep-alive connection the next request could have used.
  const split = (text: string): string[] => {
    if (done) return [];
    parser.feed(text);
    const out = found;
    found = [];
    return out;
  };
  return readItems(body, split, onData);
}

/** Calls `onLine` with each non-empty line of an NDJSON body, in order (as {@link readSse}). */
export async function readNdjson(body: Readable, onLine: Sink<string>): Promise<void> {
  let buffer = "";
  const split = (text: string): string[] => {
    buffer += text;
    const lines: string[] = [];
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) lines.push(line);
    }
    return lines;
  };
  await readItems(body, split, onLine);
  if (buffer.trim()) await onLine(buffer.trim());
}

/** Seconds from a `retry-after` header (seconds or an HTTP date), if present. */
export function retryAfterSecs(header: string | null): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, Math.ceil(secs));
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
