import type { Log } from "./log.js";
import type {
  LiveInterest,
  LiveProducer,
  LivePublisher,
  RawResult,
  ResultFeed,
  ResultSubscription,
  StoredResults,
} from "./ports.js";

/** A gateway's local listener on one live subject. */
interface LocalListener {
  onMessage(msg: RawResult): void;
  /** A worker of this process started (true) or stopped (false) producing on the subject. */
  producing(active: boolean): void;
}

/**
 * While a producer delivers only here, how often it asks again whether anyone else reads its
 * subject: a reader that joins on another instance meanwhile gets live messages from the next
 * answer on, and what came before from the stored stream (its gap fill).
 */
export const INTEREST_RECHECK_MS = 250;

/**
 * In-process live delivery, for a process that runs a gateway and the workers that answer it
 * (`sea-gateway up`).
 *
 * A worker's live results are handed at once to this process's readers of their subject. While
 * a worker of this process produces on a subject (from its inbox claim to the end of its
 * attempt), this process's readers of it drop their bus subscription, and the producer asks the
 * bus whether anyone else reads the subject (a reader on another instance): only if so, or if
 * that cannot be told, are its messages also published on the bus. It asks again every
 * {@link INTEREST_RECHECK_MS} while nobody else reads; once someone does, every later message
 * goes out on the bus too. When the worker stops (its attempt ended; a retry may run in another
 * process) the readers here subscribe again and catch up from the stored stream.
 *
 * Nothing here changes what a reader receives, only how: live delivery was at most once and
 * stays so (a reader fills gaps from the stored stream, where every delta is stored within a
 * batch window, and drops repeats); a message is the same bytes on both paths and comes in the
 * worker's emission order on both. Terminal events are always published on the bus as well
 * ({@link LivePublisher.publishLive}). A reader that moves to another instance, or resumes,
 * gets the same sequence as before, at worst a quarter of a second later at first.
 */
export class LocalLiveBus {
  private readonly listeners = new Map<string, Set<LocalListener>>();
  private readonly producers = new Map<string, number>();

  constructor(
    private readonly log: Log,
    /** Without it every message is also published on the bus. */
    private readonly interest?: LiveInterest,
  ) {}

  /** `inner` with local delivery and producer tracking (the workers' side). */
  publisher(inner: LivePublisher): LivePublisher {
    return {
      publishLive: (subject, data) => {
        inner.publishLive(subject, data);
        this.deliverHere(subject, data);
      },
      produce: (subject) => this.produce(inner, subject),
    };
  }

  /** Hands `data` to this process's readers of `subject`. */
  deliverHere(subject: string, data: Uint8Array): void {
    const here = this.listeners.get(subject);
    if (!here) return;
    for (const l of [...here]) {
      try {
        l.onMessage({ data });
      } catch (err) {
        // A reader's failure is the reader's: the worker and the other readers go on.
        this.log.error({ err, subject }, "a local reader failed on a live result");
      }
    }
  }

  /** True while this process has a reader of `subject`. */
  isReadHere(subject: string): boolean {
    return this.listeners.has(subject);
  }

  /** `inner` with local delivery (the gateway's side). */
  results(inner: ResultFeed): ResultFeed {
    return {
      subscribe: (subject, onMessage, onMissed) =>
        this.subscribe(inner, subject, onMessage, onMissed),
      replay: (context, subject, fromSeq): Promise<StoredResults> =>
        inner.replay(context, subject, fromSeq),
      onReconnect: (listener) => inner.onReconnect(listener),
    };
  }

  /** True while a worker of this process produces on `subject`. */
  isProduced(subject: string): boolean {
    return (this.producers.get(subject) ?? 0) > 0;
  }

  private produce(inner: LivePublisher, subject: string): LiveProducer {
    const n = (this.producers.get(subject) ?? 0) + 1;
    this.producers.set(subject, n);
    // Readers here drop their bus subscription first (on a shared connection the server sees
    // that before the producer's question), so the question is about readers elsewhere.
    if (n === 1) this.notify(subject, true);
    const producer = new LocalProducer(this, inner, subject, this.interest, () => {
      const left = (this.producers.get(subject) ?? 1) - 1;
      if (left > 0) return void this.producers.set(subject, left);
      this.producers.delete(subject);
      this.notify(subject, false);
    });
    return producer;
  }

  private notify(subject: string, active: boolean): void {
    for (const l of [...(this.listeners.get(subject) ?? [])]) l.producing(active);
  }

  private async subscribe(
    inner: ResultFeed,
    subject: string,
    onMessage: (msg: RawResult) => void,
    onMissed: (() => void) | undefined,
  ): Promise<ResultSubscription> {
    const bridge = new BusBridge(inner, subject, onMessage, onMissed, this.log);
    const listener: LocalListener = {
      onMessage,
      producing: (active) => bridge.want(!active, !active),
    };
    let here = this.listeners.get(subject);
    if (!here) this.listeners.set(subject, (here = new Set()));
    here.add(listener);
    const close = () => {
      const set = this.listeners.get(subject);
      set?.delete(listener);
      if (set?.size === 0) this.listeners.delete(subject);
      bridge.close();
    };
    try {
      await bridge.want(!this.isProduced(subject), false);
    } catch (err) {
      close();
      throw err;
    }
    return { close };
  }
}

/**
 * One local reader's subscription on the bus, opened and closed as the local producer comes and
 * goes. Changes are applied one at a time: a subscribe still under way when the wish changes is
 * closed as soon as it is open.
 */
class BusBridge {
  private sub: ResultSubscription | null = null;
  private wanted = false;
  private closed = false;
  private applying: Promise<void> = Promise.resolve();
  private running = false;
  private missed = false;

  constructor(
    private readonly inner: ResultFeed,
    private readonly subject: string,
    private readonly onMessage: (msg: RawResult) => void,
    private readonly onMissed: (() => void) | undefined,
    private readonly log: Log,
  ) {}

  /** Be subscribed (or not); `catchUp`: tell the reader once the subscription is back. */
  want(subscribed: boolean, catchUp: boolean): Promise<void> {
    this.wanted = subscribed;
    if (catchUp) this.missed = true;
    if (!this.running) {
      this.running = true;
      this.applying = this.apply();
    }
    return this.applying;
  }

  close(): void {
    this.closed = true;
    this.sub?.close();
    this.sub = null;
  }

  private async apply(): Promise<void> {
    try {
      await this.converge();
    } finally {
      // Synchronously with the loop's last decision: a wish made after it starts a new pass.
      this.running = false;
    }
  }

  private async converge(): Promise<void> {
    for (;;) {
      const want = this.wanted && !this.closed;
      if (want && !this.sub) {
        try {
          this.sub = await this.inner.subscribe(this.subject, this.onMessage, this.onMissed);
        } catch (err) {
          // The first subscribe's failure is the caller's to see (as without this bridge);
          // a later one leaves the reader to its gap fills and probes.
          if (!this.missed) throw err;
          this.log.warn(
            { err, subject: this.subject },
            "could not subscribe again to live results",
          );
          this.missed = false;
          this.onMissed?.();
          return;
        }
        continue;
      }
      if (!want && this.sub) {
        this.sub.close();
        this.sub = null;
        continue;
      }
      if (want && this.missed) {
        this.missed = false;
        this.onMissed?.();
      }
      return;
    }
  }
}

/**
 * One attempt's live messages: delivered here, and on the bus unless nobody else reads them.
 * Until the bus has answered, and whenever it cannot, they go on the bus too.
 */
class LocalProducer implements LiveProducer {
  private onBus = true;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly bus: LocalLiveBus,
    private readonly inner: LivePublisher,
    private readonly subject: string,
    private readonly interest: LiveInterest | undefined,
    private readonly onStop: () => void,
  ) {
    // Only for a stream read here: one nobody reads here is left as it was.
    if (interest && bus.isReadHere(subject)) this.ask();
  }

  publish(data: Uint8Array): void {
    if (this.onBus) this.inner.publishLive(this.subject, data);
    this.bus.deliverHere(this.subject, data);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // Anything still sent after the attempt (a late flush) goes on the bus as before.
    this.onBus = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.onStop();
  }

  private ask(): void {
    this.timer = null;
    this.interest!.othersListen(this.subject).then(
      (others) => {
        if (this.stopped) return;
        // Someone else reads: from now on every message goes on the bus too, for good.
        this.onBus = others;
        if (others) return;
        this.timer = setTimeout(() => this.ask(), INTEREST_RECHECK_MS);
        this.timer.unref();
      },
      () => {
        this.onBus = true;
      },
    );
  }
}
