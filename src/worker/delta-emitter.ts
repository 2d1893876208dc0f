import type { ChatDeltaPayload } from "../../contracts/index.js";
import type { CommandProcessorDeps } from "./command-processor.js";
import { resultEnvelope, type ResultOrigin } from "./result-events.js";

const encoder = new TextEncoder();
const encode = (v: unknown) => encoder.encode(JSON.stringify(v));

/**
 * Publishes a run's deltas straight to JetStream with message id
 * `<stream_id>:<attempt>:<seq>`: each attempt (inbox claim) keeps its own deltas, so a retry
 * that answers differently never overwrites or interleaves with the first (the gateway chooses
 * one attempt to deliver). Deltas emitted before the claim is held (a speculative start) wait
 * in memory until {@link open} names the attempt, and are dropped if the claim is refused.
 * Publishes are pipelined on one connection (order kept) and awaited together by
 * {@link flush}; a failed publish fails the attempt rather than leaving a hole.
 */
export class DeltaEmitter {
  nextSeq = 1;
  private origin: ResultOrigin | null = null;
  private held: ChatDeltaPayload[] = [];
  private readonly inFlight: Promise<void>[] = [];
  private readonly subject: string;

  constructor(
    private readonly deps: Pick<CommandProcessorDeps, "subjects" | "context" | "publisher">,
    private readonly base: Omit<ResultOrigin, "attempt">,
  ) {
    this.subject = deps.subjects.result(deps.context, base.tenant, base.streamId);
  }

  /** The attempt number the inbox claim gave; held deltas go out now. */
  open(attempt: number): void {
    this.origin = { ...this.base, attempt };
    for (const delta of this.held.splice(0)) this.publish(delta);
  }

  /** The identity of the attempt's result events (after {@link open}). */
  get resultOrigin(): ResultOrigin {
    if (!this.origin) throw new Error("DeltaEmitter used before open()");
    return this.origin;
  }

  emit(delta: ChatDeltaPayload): Promise<void> {
    if (!this.origin) {
      this.held.push(delta);
      return Promise.resolve();
    }
    this.publish(delta);
    // Backpressure: a handler faster than the bus waits for a window of acks.
    return this.inFlight.length >= 256 ? this.flush() : Promise.resolve();
  }

  async flush(): Promise<void> {
    const pending = this.inFlight.splice(0);
    await Promise.all(pending);
  }

  private publish(delta: ChatDeltaPayload): void {
    const origin = this.origin!;
    const seq = this.nextSeq++;
    const env = resultEnvelope(origin, "delta", seq, delta);
    const p = this.deps.publisher.publish(
      this.subject,
      encode(env),
      `${origin.streamId}:${origin.attempt}:${seq}`,
      {
        correlationId: origin.correlationId,
        causationId: origin.causationId,
        tenantId: origin.tenant,
      },
    );
    // Observed here so an early failure is not an unhandled rejection; flush() reports it.
    p.catch(() => undefined);
    this.inFlight.push(p);
  }
}
