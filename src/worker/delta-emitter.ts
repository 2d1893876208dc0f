import { RESULT_EVENT_TYPES, type ChatDeltaPayload, type Envelope } from "../../contracts/index.js";
import type { CommandProcessorDeps } from "./command-processor.js";
import { resultEnvelope, type ResultOrigin } from "./result-events.js";

const encoder = new TextEncoder();
const encode = (v: unknown) => encoder.encode(JSON.stringify(v));

/** How long deltas may wait to be stored, at most (a resuming reader may lag this much). */
export const PERSIST_WINDOW_MS = 100;
/** Deltas stored in one message, at most. */
const PERSIST_MAX_BATCH = 64;
/** Stored batches awaiting their ack before the handler is made to wait. */
const MAX_PERSIST_IN_FLIGHT = 8;

/**
 * Sends a run's deltas to the gateway and stores them, each on its own terms:
 * - live, on core NATS, as soon as they are ready: deltas emitted in the same turn of the event
 *   loop go out as one message (a model's burst), with no added delay;
 * - stored, in JetStream, in batches of up to {@link PERSIST_MAX_BATCH} or
 *   {@link PERSIST_WINDOW_MS}, with message id `<stream>:<attempt>:<first seq>` (each attempt
 *   keeps its own deltas; a retried publish is deduplicated). A late or resuming reader, and a
 *   gap in live delivery, are served from there.
 * Deltas emitted before the inbox claim names the attempt (a speculative start) wait in memory
 * until {@link open}, and are dropped if the claim is refused. {@link flush} stores the rest and
 * waits for every ack: the terminal event is committed only after it, so a stream that has
 * ended can always be replayed whole. A failed store fails the attempt.
 */
export class DeltaEmitter {
  nextSeq = 1;
  private origin: ResultOrigin | null = null;
  private held: ChatDeltaPayload[] = [];
  /** Ready to go live: first seq and deltas. */
  private live: ChatDeltaPayload[] = [];
  private liveFrom = 1;
  private liveScheduled = false;
  /** Waiting to be stored. */
  private unstored: ChatDeltaPayload[] = [];
  private unstoredFrom = 1;
  private persistTimer: NodeJS.Timeout | null = null;
  private readonly inFlight: Promise<void>[] = [];
  private readonly subject: string;
  private readonly liveSubject: string;

  constructor(
    private readonly deps: Pick<
      CommandProcessorDeps,
      "subjects" | "context" | "publisher" | "live"
    >,
    private readonly base: Omit<ResultOrigin, "attempt">,
  ) {
    this.subject = deps.subjects.result(deps.context, base.tenant, base.streamId);
    this.liveSubject = deps.subjects.liveResult(deps.context, base.tenant, base.streamId);
  }

  /** The attempt number the inbox claim gave; held deltas go out now. */
  open(attempt: number): void {
    this.origin = { ...this.base, attempt };
    for (const delta of this.held.splice(0)) this.add(delta);
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
    this.add(delta);
    // Backpressure: a handler faster than storage waits for the oldest batch's ack.
    return this.inFlight.length >= MAX_PERSIST_IN_FLIGHT ? this.inFlight[0]! : Promise.resolve();
  }

  /** Sends what is pending live, stores the rest, and waits until everything is stored. */
  async flush(): Promise<void> {
    if (this.origin) {
      this.sendLive();
      this.persist();
    }
    const pending = this.inFlight.splice(0);
    await Promise.all(pending);
  }

  private sendLive(): void {
    this.liveScheduled = false;
    if (this.live.length === 0) return;
    const env = this.batchEnvelope(this.liveFrom, this.live);
    this.live = [];
    this.deps.live.publishLive(this.liveSubject, encode(env));
  }

  private add(delta: ChatDeltaPayload): void {
    const seq = this.nextSeq++;
    if (this.live.length === 0) this.liveFrom = seq;
    this.live.push(delta);
    if (!this.liveScheduled) {
      this.liveScheduled = true;
      // Everything emitted in this turn of the event loop leaves together.
      setImmediate(() => this.sendLive());
    }
    if (this.unstored.length === 0) this.unstoredFrom = seq;
    this.unstored.push(delta);
    if (this.unstored.length >= PERSIST_MAX_BATCH) this.persist();
    else if (!this.persistTimer) {
      this.persistTimer = setTimeout(() => this.persist(), PERSIST_WINDOW_MS);
    }
  }

  private persist(): void {
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    if (this.unstored.length === 0) return;
    const origin = this.origin!;
    const env = this.batchEnvelope(this.unstoredFrom, this.unstored);
    const msgId = `${origin.streamId}:${origin.attempt}:${this.unstoredFrom}`;
    this.unstored = [];
    const p = this.deps.publisher.publish(this.subject, encode(env), msgId, {
      correlationId: origin.correlationId,
      causationId: origin.causationId,
      tenantId: origin.tenant,
    });
    // Observed here so an early failure is not an unhandled rejection; flush() reports it.
    p.catch(() => undefined);
    const tracked = p.finally(() => {
      const i = this.inFlight.indexOf(tracked);
      if (i >= 0) this.inFlight.splice(i, 1);
    });
    tracked.catch(() => undefined);
    this.inFlight.push(tracked);
  }

  /** One delta as `chat_delta`, several as `chat_deltas`. */
  private batchEnvelope(from: number, deltas: ChatDeltaPayload[]): Envelope {
    const origin = this.origin!;
    if (deltas.length === 1) return resultEnvelope(origin, "delta", from, deltas[0]!);
    const env = resultEnvelope(origin, "delta", from, deltas[0]!) as Envelope;
    return { ...env, event_type: RESULT_EVENT_TYPES.deltas, payload: { deltas: [...deltas] } };
  }
}
