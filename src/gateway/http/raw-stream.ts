import type { ServerResponse } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import { flatString } from "../../../contracts/flat-string.js";

/** Headers every SSE response sends: no caching, no proxy buffering. */
export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;

/**
 * Takes a response over from fastify, to be written by hand (an SSE stream, a protocol SDK's
 * transport). The headers set on the reply so far (rate limits, the stream id) and the request
 * id go out with it, as they would with a normal reply.
 */
export function hijack(
  req: FastifyRequest,
  reply: FastifyReply,
  extra: Record<string, string> = {},
): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  const headers = { ...reply.getHeaders(), "x-request-id": req.id, ...extra };
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) res.setHeader(k, v);
  return res;
}

/** Hijacks the response and opens it as an SSE stream (200 with {@link SSE_HEADERS}). */
export function openSse(
  req: FastifyRequest,
  reply: FastifyReply,
  extra: Record<string, string> = {},
): ServerResponse {
  const res = hijack(req, reply, extra);
  res.writeHead(200, SSE_HEADERS);
  flattenHead(res);
  return res;
}

/**
 * Node keeps a response's head as the string it concatenated header by header (`_header`, about
 * 1 KiB of cons cells for an SSE head) for as long as the response lives, and an SSE response
 * lives as long as its stream: the same text, flat, is a third of that (see flatString). Node
 * only reads the field (to send it with the first write, and for `headersSent`), so an equal
 * string in its place changes nothing else.
 */
function flattenHead(res: ServerResponse): void {
  const head = res as ServerResponse & { _header?: unknown };
  if (typeof head._header === "string") head._header = flatString(head._header);
}

/**
 * `: keep-alive` comments on a quiet stream, so clients and proxies do not give up on it: one
 * self-re-arming timer per stream; writes only {@link touch} it (no timer churn per event).
 * `before` is written ahead of the first comment it is asked for (e.g. the status line of a
 * stream that is not open yet).
 */
export class KeepAlive {
  private lastWriteAt = Date.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly ms: number,
    private readonly before: () => string = () => "",
  ) {
    this.arm(ms);
  }

  /** Something was written: the next comment waits a whole interval from now. */
  touch(): void {
    this.lastWriteAt = Date.now();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => {
      if (this.res.destroyed || this.res.writableEnded) return;
      const quietFor = Date.now() - this.lastWriteAt;
      if (quietFor >= this.ms) {
        this.res.write(this.before() + ": keep-alive\n\n");
        this.touch();
        this.arm(this.ms);
      } else this.arm(this.ms - quietFor);
    }, delay);
    this.timer.unref();
  }
}
