import type { FastifyReply, FastifyRequest } from "fastify";
import { KeepAlive, openSse } from "./raw-stream.js";

/**
 * A streamed request that may wait before its stream exists (its context's database restarting:
 * the command is written when it is back). Until `keepAliveMs` has passed nothing is sent, so an
 * early failure keeps its HTTP status; after that the stream is opened (200, SSE headers, the
 * stream id once known) and kept alive with comments, so clients and proxies do not give up.
 */
export class WaitingStream {
  private readonly keepAlive: KeepAlive;
  private streamId: string | undefined;
  /** True once the status line is out. */
  opened = false;

  constructor(req: FastifyRequest, reply: FastifyReply, keepAliveMs: number) {
    this.keepAlive = new KeepAlive(reply.raw, keepAliveMs, () => {
      if (!this.opened) {
        this.opened = true;
        openSse(req, reply, this.streamId ? { "x-stream-id": this.streamId } : {});
      }
      return "";
    });
  }

  /** The stream id, for the headers if they go out. */
  knowStreamId(id: string): void {
    this.streamId = id;
  }

  /** The stream exists (or the request failed): no more keep-alives from here. */
  stop(): void {
    this.keepAlive.stop();
  }
}
