import type { Capability, ChatDelivery } from "../../../contracts/index.js";
import type { Log } from "../../log.js";
import type { Principal } from "../../ports.js";
import type { ClientOrigin, StreamRef, WrittenCommand } from "../commands/command-writer.js";

/** Who asks for a run, and how a retry of the same request finds it. */
export interface StartOptions {
  principal: Principal;
  correlationId: string;
  log: Log;
  origin?: ClientOrigin;
  /** `Idempotency-Key`: a retry with the same key (and tenant) attaches to the same stream. */
  idempotencyKey?: string | undefined;
  /** A stream id the client chose (same effect as an idempotency key). */
  streamId?: string | undefined;
  /** A per-key stream slot taken for this request; released when the run is disposed. */
  releaseSlot?: () => void;
  /** Told the stream id as soon as it is known (before the command is written). */
  onStreamId?: (streamId: string) => void;
}

/**
 * What starting a run needs, whatever its command: the capability, how its results are
 * delivered, and how to write its command (once: a second write of the same stream's command
 * returns `written: false`).
 */
export interface RunSpec {
  capability: Capability;
  /** How the results are delivered (see {@link runDelivery}). */
  delivery: ChatDelivery;
  /**
   * The request fields that decide the answer. When the client names the request (an
   * idempotency key or its own stream id) they are hashed into the delivery, so a retry with
   * another body is refused; otherwise no retry can find the stream and nothing is hashed.
   */
  answerInputs: unknown;
  write(ids: StreamRef, delivery: ChatDelivery): Promise<WrittenCommand>;
}

/** How a run's results are delivered. */
export function runDelivery(opts: {
  background?: boolean | null | undefined;
  includeUsage?: boolean | null | undefined;
}): ChatDelivery {
  const d: ChatDelivery = {};
  if (opts.background === true) d.background = true;
  if (opts.includeUsage === true) d.include_usage = true;
  return d;
}
