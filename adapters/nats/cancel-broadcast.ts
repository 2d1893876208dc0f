import type { NatsConnection } from "nats";
import type { ContextName, SubjectSpace } from "../../contracts/index.js";
import type { CancelBroadcast } from "../../src/ports.js";

/**
 * Cancellation announcements over core NATS (not stored: the durable record is the
 * `cancelled_streams` row, written before the announcement). Every worker of the context hears
 * every announcement and stops the stream if it runs it.
 */
export class NatsCancelBroadcast implements CancelBroadcast {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: SubjectSpace,
  ) {}

  announce(context: ContextName, tenant: string, streamId: string): void {
    this.nc.publish(this.subjects.cancelBroadcast(context, tenant, streamId));
  }

  listen(context: ContextName, onCancel: (tenant: string, streamId: string) => void): () => void {
    const sub = this.nc.subscribe(this.subjects.cancelBroadcastFilter(context), {
      callback: (_err, msg) => {
        const [tenant, streamId] = msg.subject.split(".").slice(-2);
        if (tenant && streamId) onCancel(tenant, streamId);
      },
    });
    return () => sub.unsubscribe();
  }
}
