import { ConsumerDebugEvents, ConsumerEvents, type ConsumerStatus } from "nats";

/** What the command source does with one status event of its pull (`consume()`). */
export interface PullStatusAction {
  /** `info` for what an operator should see (a lost pull, a missing consumer), else `debug`. */
  level: "info" | "debug";
  /** End this pull and start a new one at once. */
  repull: boolean;
}

/**
 * How the command source treats a status event of its pull. Idle heartbeats themselves never
 * show here (the library swallows them); what does:
 * - missed heartbeats: the server holding the pull is gone (a cluster's consumer leader died,
 *   or the connection's server did): re-pull at once rather than wait for the library's own
 *   recovery (a consumer info with the 5 s API timeout, then a backoff of one pull expiry);
 * - a server's "leadership change" status (newer servers tell waiting pulls so): re-pull;
 * - a missing consumer, stream or responder (an election under way, or a deleted consumer):
 *   shown, but no re-pull: a pull now would meet the same answer, and the library retries;
 * - the rest (each pull request sent, a pull expiring with nothing to deliver, other server
 *   statuses the library ignores) happens in normal running: debug only.
 */
export function pullStatusAction(status: ConsumerStatus): PullStatusAction {
  switch (status.type) {
    case ConsumerEvents.HeartbeatsMissed:
      return { level: "info", repull: true };
    case ConsumerEvents.ConsumerNotFound:
    case ConsumerEvents.StreamNotFound:
    case ConsumerEvents.ConsumerDeleted:
    case ConsumerEvents.NoResponders:
      return { level: "info", repull: false };
    case ConsumerDebugEvents.DebugEvent:
      return /leadership change/i.test(String(status.data))
        ? { level: "info", repull: true }
        : { level: "debug", repull: false };
    default:
      return { level: "debug", repull: false };
  }
}
