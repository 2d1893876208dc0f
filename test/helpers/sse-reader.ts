import { sseContent, sseEvents } from "./sse.js";

/** What a raw SSE read saw. */
export interface SseRead {
  status: number;
  headers: Headers;
  body: string;
  /** The concatenated content of the chunks read. */
  text: string;
  /** The `id:` of the last event read (the resume cursor), 0 if none. */
  lastId: number;
  /** True when the client hung up itself. */
  dropped: boolean;
}

/**
 * Reads an SSE response as a client would, optionally hanging up after `dropAfterChunks`
 * content chunks (or after `dropAfterMs` with nothing read): the way a network drop looks.
 */
export async function readSse(
  url: string,
  init: RequestInit,
  opts: { dropAfterChunks?: number; dropAfterMs?: number } = {},
): Promise<SseRead> {
  const abort = new AbortController();
  const timer =
    opts.dropAfterMs !== undefined ? setTimeout(() => abort.abort(), opts.dropAfterMs) : null;
  let body = "";
  let dropped = false;
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: abort.signal });
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    return { status: 0, headers: new Headers(), body, text: "", lastId: 0, dropped: true };
  }
  try {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      body += decoder.decode(chunk, { stream: true });
      const contentChunks = sseEvents(body).filter((e) => e.id !== undefined).length;
      if (opts.dropAfterChunks !== undefined && contentChunks >= opts.dropAfterChunks) {
        // Keep exactly what a client would have parsed: whole events only.
        body = body.slice(0, body.lastIndexOf("\n\n") + 2);
        dropped = true;
        abort.abort();
        break;
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    dropped = true;
  } finally {
    if (timer) clearTimeout(timer);
  }
  const ids = sseEvents(body)
    .map((e) => e.id)
    .filter((id): id is number => id !== undefined);
  return {
    status: res.status,
    headers: res.headers,
    body,
    text: sseContent(body),
    lastId: ids.at(-1) ?? 0,
    dropped,
  };
}
