import { Empty, type NatsConnection } from "nats";
import type { LiveInterest } from "../../src/ports.js";

/** How long a reader elsewhere may take to say it is there (then: assume it is). */
const ASK_TIMEOUT_MS = 1_000;

/**
 * Asks a live subject itself who reads it: an empty request on it. With no subscriber the
 * server answers "no responders" at once (one round trip, never a timeout); a gateway's
 * subscription answers it (see NatsResultFeed), and one that does not (an older gateway) is
 * counted by its silence.
 */
export class NatsLiveInterest implements LiveInterest {
  constructor(private readonly nc: NatsConnection) {}

  async othersListen(subject: string): Promise<boolean> {
    try {
      await this.nc.request(subject, Empty, { timeout: ASK_TIMEOUT_MS });
      return true;
    } catch (err) {
      // "503": no responders. Anything else (a timeout, a closed connection) cannot tell.
      return (err as { code?: string }).code !== "503";
    }
  }
}
