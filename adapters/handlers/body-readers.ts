import { finished, type Readable } from "node:stream";
import { createParser } from "eventsource-parser";

/** What a body reader hands on: a promise only when the reader must wait (back-pressure). */
type Sink<T> = (item: T) => void | Promise<void>;

/**
 * Hands `body`'s text to `onText` as it arrives, in order, pausing the body while a promise
 * `onText` returned is pending. Resolves at the end of the body; rejects with the body's error
 * (a reset, an abort, a premature close) or with what `onText` throws, and destroys the body then.
 *
 * Events rather than `for await`: a model's answer comes in hundreds of small chunks, and the
 * async iterator costs promises and a turn of the microtask queue for each one.
 */
function readText(body: Readable, onText: Sink<string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder();
    let waiting: Promise<void> | null = null;
    let ended = false;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      body.off("data", onChunk);
      body.destroy();
      reject(err);
    };
    const onChunk = (chunk: Buffer) => {
      if (failed) return;
      let r: void | Promise<void>;
      try {
        r = onText(decoder.decode(chunk, { stream: true }));
      } catch (err) {
        return fail(err);
      }
      if (!r) return;
      body.pause();
      waiting = r.then(() => {
        waiting = null;
        if (failed) return;
        if (ended) resolve();
        else body.resume();
      }, fail);
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
  const pending: string[] = [];
  let done = false;
  const parser = createParser({
    onEvent: (ev) => {
      if (ev.data === "[DONE]") done = true;
      else if (!done) pending.push(ev.data);
    },
  });
  const drain = (): void | Promise<void> => {
    while (pending.length > 0) {
      const r = onData(pending.shift()!);
      if (r) return r.then(drain);
    }
  };
  // Read to the end even after [DONE]: leaving early would destroy the response, and with it
  // the keep-alive connection the next request could have used.
  return readText(body, (text) => {
    if (done) return;
    parser.feed(text);
    return drain();
  });
}

/** Calls `onLine` with each non-empty line of an NDJSON body, in order (as {@link readSse}). */
export async function readNdjson(body: Readable, onLine: Sink<string>): Promise<void> {
  const lines: string[] = [];
  let buffer = "";
  const drain = (): void | Promise<void> => {
    while (lines.length > 0) {
      const r = onLine(lines.shift()!);
      if (r) return r.then(drain);
    }
  };
  await readText(body, (text) => {
    buffer += text;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) lines.push(line);
    }
    return drain();
  });
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
