import type { WebSocket } from "ws";
import type { Log } from "../../log.js";

/** How much a socket may hold for a client, and for how long, before it is closed. */
export interface SendQueueLimits {
  /** Bytes buffered for the client beyond which the socket is closed (1013). */
  maxBufferedBytes: number;
  /** How long a reader may keep the buffer above a quarter of that before it is closed. */
  slowReaderMs: number;
  /** Ping interval; a client that has not answered the previous ping is dropped. */
  pingIntervalMs: number;
}

/** Close code for a client that does not read fast enough ("try again later"). */
export const SLOW_READER_CLOSE = 1013;

/**
 * The sending side of one socket: memory held for a client is bounded. Streams wait for
 * {@link drained} before their next batch; a client that stays behind for `slowReaderMs`, or
 * lets the buffer reach `maxBufferedBytes`, is closed with 1013. Pings keep the socket alive
 * through proxies and find clients that vanished.
 */
export class SendQueue {
  private closed = false;
  private alive = true;
  private readonly pinger: NodeJS.Timeout;

  constructor(
    private readonly socket: WebSocket,
    private readonly limits: SendQueueLimits,
    private readonly log: Log,
  ) {
    socket.on("pong", () => (this.alive = true));
    this.pinger = setInterval(() => {
      if (!this.alive) {
        log.info("websocket client stopped answering pings; dropped");
        socket.terminate();
        return;
      }
      this.alive = false;
      socket.ping();
    }, limits.pingIntervalMs);
    this.pinger.unref();
  }

  send(text: string): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.limits.maxBufferedBytes) {
      return this.closeSlow("send buffer full");
    }
    this.socket.send(text);
  }

  /** Resolves true once the buffer is low again; false if the socket closed meanwhile. */
  async drained(): Promise<boolean> {
    const low = this.limits.maxBufferedBytes / 4;
    const since = Date.now();
    while (!this.closed && this.socket.bufferedAmount > low) {
      if (Date.now() - since > this.limits.slowReaderMs) {
        this.closeSlow("client reads too slowly");
        return false;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.pinger);
  }

  private closeSlow(why: string): void {
    if (this.closed) return;
    this.log.warn({ buffered: this.socket.bufferedAmount }, `websocket closed: ${why}`);
    this.close();
    // The close frame waits behind what is buffered; a reader that never reads it is cut off
    // by ws's own closing-handshake timeout.
    this.socket.close(SLOW_READER_CLOSE, why);
  }
}
