import type { NatsConnection } from "nats";
import type { Log } from "../../src/log.js";

/** The advisory JetStream publishes when `durable` on `stream` gets a new leader. */
export function consumerLeaderElectedSubject(stream: string, durable: string): string {
  return `$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.${stream}.${durable}`;
}

/** The advisory JetStream publishes when `stream` gets a new leader. */
export function streamLeaderElectedSubject(stream: string): string {
  return `$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.${stream}`;
}

/** The new leader's server name in a leader-elected advisory, or null if it names none. */
export function electedLeader(body: string): string | null {
  try {
    const leader = (JSON.parse(body) as { leader?: unknown } | null)?.leader;
    return typeof leader === "string" && leader !== "" ? leader : null;
  } catch {
    return null;
  }
}

/**
 * Calls `onElected` with the new leader each time the advisory on `subject` arrives (a cluster
 * elected a leader for a stream or consumer; a single server never sends it). The subscription
 * is core NATS, re-established by the client after a reconnect. Without permission to hear
 * advisories this only logs a warning: what it speeds up still happens, later. Returns a
 * function that stops listening.
 */
export function watchLeaderElected(
  nc: NatsConnection,
  subject: string,
  onElected: (leader: string) => void,
  log: Log,
): () => void {
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) {
        log.warn({ err, subject }, "cannot hear leader elections; recovery after one waits longer");
        return;
      }
      onElected(electedLeader(msg.string()) ?? "unknown");
    },
  });
  return () => sub.unsubscribe();
}
