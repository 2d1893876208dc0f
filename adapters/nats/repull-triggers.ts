import type { NatsConnection } from "nats";
import type { RepullTrigger } from "./command-source.js";
import { consumerLeaderElectedSubject, watchLeaderElected } from "./leader-elected.js";
import { watchReconnects } from "./reconnects.js";
import type { ContextName, SubjectSpace } from "../../contracts/index.js";
import type { Log } from "../../src/log.js";

/**
 * What makes a context's command source pull again at once: a new leader for its workers'
 * consumer (on a cluster, the pull waiting on the old one is lost) and the connection coming
 * back (on another server, maybe after the one holding the pull died).
 */
export function workerRepullTriggers(
  nc: NatsConnection,
  subjects: SubjectSpace,
  ctx: ContextName,
  log: Log,
): RepullTrigger[] {
  const advisory = consumerLeaderElectedSubject(
    subjects.commandStream(ctx),
    subjects.workerDurable(ctx),
  );
  return [
    (repull) =>
      watchLeaderElected(
        nc,
        advisory,
        (leader) => repull(`consumer leader elected: ${leader}`),
        log,
      ),
    (repull) => watchReconnects(nc, () => repull("reconnected")),
  ];
}
