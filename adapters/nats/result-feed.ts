import { Empty, type JetStreamManager, type NatsConnection, type StoredMsg } from "nats";
import { watchBusBack } from "./bus-back.js";
import { CONTEXTS, type ContextName, type SubjectSpace } from "../../contracts/index.js";
import type { Log } from "../../src/log.js";
import type { RawResult, ResultFeed, ResultSubscription, StoredResults } from "../../src/ports.js";

/** Direct get, present on nats.js v2's manager though missing from its interface type. */
interface DirectGet {
  direct: {
    getMessage(stream: string, q: { seq: number; next_by_subj: string }): Promise<StoredMsg>;
  };
}

/**
 * Live results over a core subscription on the request's own subject (no JetStream consumer per
 * request); replay through direct get on the context's event stream (no consumer at all), from
 * a cursor so a later read starts where the last one ended.
 */
export class NatsResultFeed implements ResultFeed {
  private readonly backListeners = new Set<() => void>();
  private watching = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly subjects: SubjectSpace,
    private readonly log: Log,
  ) {}

  async subscribe(subject: string, onMessage: (m: RawResult) => void): Promise<ResultSubscription> {
    const sub = this.nc.subscribe(subject, {
      callback: (_err, msg) => {
        // An empty message is a worker asking who reads the stream (see NatsLiveInterest).
        if (msg.data.length === 0) return void (msg.reply && msg.respond(Empty));
        onMessage({ data: msg.data });
      },
    });
    // No flush round trip: the server handles a connection's protocol in order, and what can
    // produce results on this subject (the command's publish, a stored-result read) goes out
    // on this connection after the SUB; a command published elsewhere (the relay) comes a
    // dispatch grace later, and anything a reconnect loses is read back from the stream.
    return { close: () => sub.unsubscribe() };
  }

  async replay(context: ContextName, subject: string, fromSeq = 1): Promise<StoredResults> {
    const stream = this.subjects.eventStream(context);
    const messages: RawResult[] = [];
    let seq = fromSeq;
    for (;;) {
      try {
        const m = await (this.jsm as unknown as DirectGet).direct.getMessage(stream, {
          seq,
          next_by_subj: subject,
        });
        messages.push({ data: m.data });
        seq = m.seq + 1;
      } catch (err) {
        if ((err as { code?: string }).code === "404") return { messages, nextSeq: seq };
        throw err;
      }
    }
  }

  /**
   * Calls `listener` when the connection comes back, and when an event stream elects a new
   * leader: on a cluster, what workers stored meanwhile lands only once it has one, and a
   * stream with a gap would otherwise learn it at its next, backed-off, check (up to 2 s later).
   * One watch for every listener (a gateway follows thousands of streams).
   */
  onReconnect(listener: () => void): () => void {
    if (!this.watching) {
      this.watching = true;
      const streams = CONTEXTS.map((ctx) => this.subjects.eventStream(ctx));
      watchBusBack(this.nc, streams, () => this.backListeners.forEach((l) => l()), this.log);
    }
    this.backListeners.add(listener);
    return () => void this.backListeners.delete(listener);
  }
}
