import type { FastifyReply, FastifyRequest } from "fastify";
import { SSE_HEADERS } from "../sse/run-sse.js";

/**
 * A streamed request that may wait before its stream exists (its context's database restarting:
 * the command is written when it is back). Until `keepAliveMs` has passed nothing is sent, so an
 * early failure keeps its HTTP status; after that the stream is opened (200, SSE headers, the
 * stream id once known) and kept alive with comments, so clients and proxies do not give up.
 */
export class WaitingStream {
  private timer: NodeJS.Timeout | null = null;
  private streamId: string | undefined;
  /** True once the status line is out. */
  opened = false;

  constructor(
    private readonly req: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly keepAliveMs: number,
  ) {
    this.arm();
  }

  /** The stream id, for the headers if they go out. */
  knowStreamId(id: string): void {
    this.streamId = id;
  }

  /** The stream exists (or the request failed): no more keep-alives from here. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      const res = this.reply.raw;
      if (res.destroyed) return;
      if (!this.opened) {
        this.opened = true;
        this.reply.hijack();
        res.writeHead(200, {
          ...SSE_HEADERS,
          ...(this.reply.getHeaders() as Record<string, string>),
          ...(this.streamId ? { "x-stream-id": this.streamId } : {}),
          "x-request-id": this.req.id,
        });
      }
      res.write(": keep-alive\n\n");
      this.arm();
    }, this.keepAliveMs);
    this.timer.unref();
  }
}
