import type { ChatDeltaPayload } from "../../contracts/index.js";
import type { CommandProcessorDeps } from "./command-processor.js";
import { resultEnvelope, type ResultOrigin } from "./result-events.js";

const encoder = new TextEncoder();
const encode = (v: unknown) => encoder.encode(JSON.stringify(v));

/**
 * Publishes deltas straight to JetStream with message id `<stream_id>:<seq>`. Publishes are
 * pipelined on one connection (order kept) and awaited together by {@link flush}; a failed
 * publish fails the attempt, so the command is redelivered rather than leaving a hole.
 */
export class DeltaEmitter {
  nextSeq = 1;
  private readonly inFlight: Promise<void>[] = [];
  private readonly subject: string;

  constructor(
    private readonly deps: Pick<CommandProcessorDeps, "subjects" | "context" | "publisher">,
    private readonly origin: ResultOrigin,
  ) {
    this.subject = deps.subjects.result(deps.context, origin.tenant, origin.streamId);
  }

  emit(delta: ChatDeltaPayload): Promise<void> {
    const seq = this.nextSeq++;
    const env = resultEnvelope(this.origin, "delta", seq, delta);
    const p = this.deps.publisher.publish(
      this.subject,
      encode(env),
      `${this.origin.streamId}:${seq}`,
      {
        correlationId: this.origin.correlationId,
        causationId: this.origin.causationId,
        tenantId: this.origin.tenant,
      },
    );
    // Observed here so an early failure is not an unhandled rejection; flush() reports it.
    p.catch(() => undefined);
    this.inFlight.push(p);
    if (this.inFlight.length >= 256) return this.flush();
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    const pending = this.inFlight.splice(0);
    await Promise.all(pending);
  }
}
