import type { NatsConnection } from "nats";

/** The parts of nats.js v2's protocol handler that decide when protocol text is written. */
interface ProtocolInternals {
  outbound: { size(): number; fill(...bufs: Uint8Array[]): void };
  pendingLimit: number;
  flushPending(): void;
  sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void;
}

const encoder = new TextEncoder();

/**
 * Makes a connection write what it has to send once per turn of the event loop instead of once
 * per microtask checkpoint, which is what nats.js does (it queues its flush as a microtask when
 * the first command of a batch is buffered).
 *
 * Why: on this path a socket write costs far more than the bytes it carries (on loopback the
 * receiver's TCP work is charged to the writer), and a process handling many streams buffers
 * NATS commands from many callbacks of one turn: the worker's stored batches and acks, the
 * gateway's subscribe, publish and unsubscribe per request, each in its own I/O callback. Left
 * to nats.js, each callback's commands cost a write of their own; flushed from `setImmediate`
 * they go out together, in the same order, at the end of the turn (the check phase runs right
 * after the I/O callbacks of the same loop iteration: no timer, no added delay for a lone
 * message beyond the rest of the turn). A buffer past the client's pending limit is still
 * written at once, as nats.js does.
 *
 * Returns false (and changes nothing) if the client's internals are not what this expects (a
 * nats.js upgrade): the connection then flushes as nats.js does, which is only slower.
 */
export function flushOncePerTurn(nc: NatsConnection): boolean {
  const proto = (nc as unknown as { protocol?: Partial<ProtocolInternals> }).protocol;
  if (
    !proto ||
    typeof proto.sendCommand !== "function" ||
    typeof proto.flushPending !== "function" ||
    typeof proto.pendingLimit !== "number" ||
    typeof proto.outbound?.fill !== "function"
  ) {
    return false;
  }
  const p = proto as ProtocolInternals;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    p.flushPending();
  };
  p.sendCommand = (cmd, ...payloads) => {
    p.outbound.fill(typeof cmd === "string" ? encoder.encode(cmd) : cmd, ...payloads);
    if (p.outbound.size() >= p.pendingLimit) {
      p.flushPending();
      return;
    }
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return true;
}
