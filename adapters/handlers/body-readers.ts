import { createParser } from "eventsource-parser";

/** Calls `onData` with each SSE `data:` payload of a streamed body (`[DONE]` ends it). */
export async function readSse(
  body: AsyncIterable<Uint8Array>,
  onData: (data: string) => Promise<void>,
): Promise<void> {
  const pending: string[] = [];
  let done = false;
  const parser = createParser({
    onEvent: (ev) => {
      if (ev.data === "[DONE]") done = true;
      else if (!done) pending.push(ev.data);
    },
  });
  const decoder = new TextDecoder();
  // Read to the end even after [DONE]: leaving the loop early would destroy the response, and
  // with it the keep-alive connection the next request could have used.
  for await (const chunk of body) {
    if (done) continue;
    parser.feed(decoder.decode(chunk, { stream: true }));
    // Handled in order, each awaited, so deltas leave in the order they came.
    for (const data of pending.splice(0)) await onData(data);
  }
}

/** Calls `onLine` with each non-empty line of an NDJSON body. */
export async function readNdjson(
  body: AsyncIterable<Uint8Array>,
  onLine: (line: string) => Promise<void>,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) await onLine(line);
    }
  }
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
