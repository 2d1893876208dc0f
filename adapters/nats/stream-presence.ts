import { Empty, type NatsConnection } from "nats";
import type { SubjectSpace } from "../../contracts/index.js";
import type { StreamPresence } from "../../src/ports.js";

/** How long to wait for an instance holding a stream to answer. */
const ASK_TIMEOUT_MS = 1_000;

/**
 * Presence over core NATS request/reply: an instance with a reader on a stream subscribes to
 * the stream's presence subject; asking is a request on it. With no subscriber the server
 * answers "no responders" at once, so asking costs one round trip, never a timeout.
 */
export class NatsStreamPresence implements StreamPresence {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: SubjectSpace,
  ) {}

  hold(tenant: string, streamId: string): () => void {
    const sub = this.nc.subscribe(this.subjects.streamPresence(tenant, streamId), {
      callback: (_err, msg) => void msg.respond(Empty),
    });
    return () => sub.unsubscribe();
  }

  async isHeldElsewhere(tenant: string, streamId: string): Promise<boolean> {
    try {
      await this.nc.request(this.subjects.streamPresence(tenant, streamId), Empty, {
        timeout: ASK_TIMEOUT_MS,
      });
      return true;
    } catch {
      // No responders (nobody holds it) or a timeout: nobody is known to read it.
      return false;
    }
  }
}
