import type { Log } from "../log.js";
import type { InboxStore } from "../ports.js";

/**
 * Keeps the inbox leases of the commands this worker runs: one timer, one statement renewing
 * every lease held, a third of a lease apart. A worker that dies stops renewing, so another
 * worker takes its commands over when their leases run out (seconds, not the whole run).
 */
export class LeaseKeeper {
  private readonly held = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private renewing = false;

  constructor(
    private readonly inbox: InboxStore,
    readonly leaseMs: number,
    private readonly log: Log,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  hold(messageId: string): void {
    this.held.add(messageId);
  }

  release(messageId: string): void {
    this.held.delete(messageId);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    try {
      await this.inbox.extendLeases([...this.held], this.leaseMs);
    } catch (err) {
      // The database is unreachable: the handlers go on; their results are committed (with
      // retries) when it is back. A lease that runs out meanwhile may let a second attempt
      // start; the inbox still closes the command once.
      this.log.warn(
        { err, leases: this.held.size },
        "database unavailable: inbox leases not renewed",
      );
    } finally {
      this.renewing = false;
    }
  }
}
