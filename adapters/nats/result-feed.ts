import type { JetStreamManager, NatsConnection, StoredMsg } from "nats";
import type { ContextName, SubjectSpace } from "../../contracts/index.js";
import type { RawResult, ResultFeed, ResultSubscription } from "../../src/ports.js";

/** Direct get, present on nats.js v2's manager though missing from its interface type. */
interface DirectGet {
  direct: {
    getMessage(stream: string, q: { seq: number; next_by_subj: string }): Promise<StoredMsg>;
  };
}

/**
 * Live results over a core subscription on the request's own subject (no JetStream consumer per
 * request); replay through direct get on the context's event stream (no consumer at all).
 */
export class NatsResultFeed implements ResultFeed {
  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly subjects: SubjectSpace,
  ) {}

  async subscribe(subject: string, onMessage: (m: RawResult) => void): Promise<ResultSubscription> {
    const sub = this.nc.subscribe(subject, {
      callback: (_err, msg) => onMessage({ data: msg.data }),
    });
    // The flush round trip guarantees the server has registered the interest.
    await this.nc.flush();
    return { close: () => sub.unsubscribe() };
  }

  async replay(context: ContextName, subject: string): Promise<RawResult[]> {
    const stream = this.subjects.eventStream(context);
    const out: RawResult[] = [];
    let seq = 1;
    for (;;) {
      try {
        const m = await (this.jsm as unknown as DirectGet).direct.getMessage(stream, {
          seq,
          next_by_subj: subject,
        });
        out.push({ data: m.data });
        seq = m.seq + 1;
      } catch (err) {
        if ((err as { code?: string }).code === "404") return out;
        throw err;
      }
    }
  }
}
