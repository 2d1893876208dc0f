import type {
  ChatDeltaPayload,
  ContextName,
  Envelope,
  SubjectSpace,
} from "../../contracts/index.js";
import type { LiveProducer, LivePublisher, StreamPublisher } from "../ports.js";
import { resultEnvelope, type ResultOrigin } from "./result-events.js";

const encoder = new TextEncoder();
const encode = (v: unknown) => encoder.encode(JSON.stringify(v));

/** How long deltas may wait to be stored, at most (a resuming reader may lag this much). */
export const PERSIST_WINDOW_MS = 200;
/** Deltas stored in one message, at most. */
const PERSIST_MAX_BATCH = 64;
/** Stored batches awaiting their ack before the handler is made to wait. */
const MAX_PERSIST_IN_FLIGHT = 8;

/** Where an emitter sends deltas: live (core NATS) and stored (JetStream) on its subjects. */
export interface DeltaEmitterDeps {
  context: ContextName;
  subjects: SubjectSpace;
  publisher: StreamPublisher;
  live: LivePublisher;
}

/**
 * Runs the deferred work of every emitter of the process together: all the live messages that
 * are ready go out in one turn of the event loop (so the NATS client writes them to its socket
 * in one write, not one per stream), and all pending batches are stored on one shared tick.
 */
class EmitterTicks {
  private readonly live = new Set<DeltaEmitter>();
  private liveScheduled = false;
  private readonly unstored = new Set<DeltaEmitter>();
  private persistTimer: NodeJS.Timeout | null = null;

  sendLiveSoon(e: DeltaEmitter): void {
    this.live.add(e);
    if (this.liveScheduled) return;
    this.liveScheduled = true;
    setImmediate(() => {
      this.liveScheduled = false;
      const ready = [...this.live];
      this.live.clear();
      for (const emitter of ready) emitter.sendLiveNow();
    });
  }

  persistSoon(e: DeltaEmitter): void {
    this.unstored.add(e);
    if (this.persistTimer) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      const due = [...this.unstored];
      this.unstored.clear();
      for (const emitter of due) emitter.persistNow();
    }, PERSIST_WINDOW_MS);
  }

  forget(e: DeltaEmitter): void {
    this.live.delete(e);
    this.unstored.delete(e);
  }
}

const ticks = new EmitterTicks();

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
  /** Waiting to be stored. */
  private unstored: ChatDeltaPayload[] = [];
  private unstoredFrom = 1;
  private readonly inFlight: Promise<void>[] = [];
  /** The first store that failed, even if it settled before {@link flush} was called. */
  private storeError: unknown = null;
  private readonly subject: string;
  private readonly liveSubject: string;
  /** This attempt's live messages, once its claim names it (see LivePublisher.produce). */
  private producer: LiveProducer | null = null;

  constructor(
    private readonly deps: DeltaEmitterDeps,
    private readonly base: Omit<ResultOrigin, "attempt">,
  ) {
    this.subject = deps.subjects.result(deps.context, base.tenant, base.streamId);
    this.liveSubject = deps.subjects.liveResult(deps.context, base.tenant, base.streamId);
  }

  /** The attempt number the inbox claim gave; held deltas go out now. */
  open(attempt: number): void {
    this.origin = { ...this.base, attempt };
    // From the claim on, this attempt is the stream's producer (readers in this process take
    // its live messages directly); not before: a refused claim means another worker answers.
    this.producer ??= this.deps.live.produce?.(this.liveSubject) ?? null;
    const held = this.held.splice(0);
    for (const delta of held) this.add(delta);
    // What a speculative start produced has waited for the claim already: it goes now, not at
    // the end of the turn (it is a new stream's first chunk, on the critical path).
    if (held.length > 0) this.sendLiveNow();
  }

  /** The identity of the attempt's result events (after {@link open}). */
  get resultOrigin(): ResultOrigin {
    if (!this.origin) throw new Error("DeltaEmitter used before open()");
    return this.origin;
  }

  /** Sends `delta`; a promise only when the handler must wait (see HandlerContext.emit). */
  emit(delta: ChatDeltaPayload): Promise<void> | undefined {
    if (!this.origin) {
      this.held.push(delta);
      return undefined;
    }
    const first = this.nextSeq === 1;
    this.add(delta);
    // The attempt's first chunk goes at once: a reader is waiting for it (time to first token).
    // Later ones wait for the end of the turn, to leave together.
    if (first) this.sendLiveNow();
    // Backpressure: a handler faster than storage waits for the oldest batch's ack.
    return this.inFlight.length >= MAX_PERSIST_IN_FLIGHT ? this.inFlight[0]! : undefined;
  }

  /** The attempt has ended (settled or abandoned): it no longer produces on its subject. */
  close(): void {
    this.producer?.stop();
  }

  /** Sends what is pending live, stores the rest, and waits until everything is stored. */
  async flush(): Promise<void> {
    ticks.forget(this);
    if (this.origin) {
      this.sendLiveNow();
      this.persistNow();
    }
    const pending = this.inFlight.splice(0);
    await Promise.all(pending);
    if (this.storeError !== null) throw this.storeError;
  }

  /**
   * @internal Sends what is ready live now (see {@link EmitterTicks}). A live message carries
   * only what a reader needs to place it (type, seq, attempt, payload): its full envelope is the
   * stored copy's. Deltas are a few bytes; the envelope would be most of every message.
   */
  sendLiveNow(): void {
    if (this.live.length === 0) return;
    const { attempt } = this.origin!;
    const payload =
      this.live.length === 1
        ? `"chat_delta","seq":${this.liveFrom},"attempt":${attempt},"payload":${JSON.stringify(this.live[0])}`
        : `"chat_deltas","seq":${this.liveFrom},"attempt":${attempt},"payload":{"deltas":${JSON.stringify(this.live)}}`;
    this.live = [];
    const data = encoder.encode(`{"event_type":${payload}}`);
    if (this.producer) this.producer.publish(data);
    else this.deps.live.publishLive(this.liveSubject, data);
  }

  private add(delta: ChatDeltaPayload): void {
    const seq = this.nextSeq++;
    if (this.live.length === 0) this.liveFrom = seq;
    this.live.push(delta);
    // Everything emitted in this turn of the event loop leaves together.
    ticks.sendLiveSoon(this);
    if (this.unstored.length === 0) this.unstoredFrom = seq;
    this.unstored.push(delta);
    if (this.unstored.length >= PERSIST_MAX_BATCH) this.persistNow();
    else ticks.persistSoon(this);
  }

  /** @internal Stores what is waiting now (see {@link EmitterTicks}). */
  persistNow(): void {
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
    // A failure is kept for flush() to report, however long before it the store settled.
    const tracked = p
      .catch((err: unknown) => {
        this.storeError ??= err;
      })
      .finally(() => {
        const i = this.inFlight.indexOf(tracked);
        if (i >= 0) this.inFlight.splice(i, 1);
      });
    this.inFlight.push(tracked);
  }

  /** One delta as `chat_delta`, several as `chat_deltas`. */
  private batchEnvelope(from: number, deltas: ChatDeltaPayload[]): Envelope {
    const origin = this.origin!;
    if (deltas.length === 1) return resultEnvelope(origin, "delta", from, deltas[0]!);
    return resultEnvelope(origin, "deltas", from, { deltas: [...deltas] });
  }
}
