import type { NatsConnection } from "nats";
import { streamLeaderElectedSubject, watchLeaderElected } from "./leader-elected.js";
import { watchReconnects } from "./reconnects.js";
import type { Log } from "../../src/log.js";

/**
 * Calls `listener` each time the bus may take again what it could not a moment ago: the
 * connection came back, or one of `streams` got a new leader (on a cluster, publishes to a
 * stream go unanswered while it elects one, and would learn it only at their timeout). A
 * publisher resends what is pending at once (see ResendClock); a relay retries its failed rows.
 * Returns a function that stops calling it.
 */
export function watchBusBack(
  nc: NatsConnection,
  streams: string[],
  listener: () => void,
  log: Log,
): () => void {
  const stops = [
    watchReconnects(nc, listener),
    ...streams.map((stream) =>
      watchLeaderElected(
        nc,
        streamLeaderElectedSubject(stream),
        (leader) => {
          log.info({ stream, leader }, "stream leader elected; trying again now");
          listener();
        },
        log,
      ),
    ),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
