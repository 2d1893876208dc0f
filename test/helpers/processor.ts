import type { NatsConnection } from "nats";
import type pg from "pg";
import { subjectSpace } from "../../contracts/index.js";
import { NatsCancelBroadcast } from "../../adapters/nats/cancel-broadcast.js";
import { JetStreamPublisher, NatsLivePublisher } from "../../adapters/nats/publisher.js";
import { PgCancellationStore } from "../../adapters/postgres/cancellation-store.js";
import { PgInboxStore } from "../../adapters/postgres/inbox-store.js";
import { CommandProcessor } from "../../src/worker/command-processor.js";
import type { HandlerRegistry } from "../../src/worker/handler.js";
import { testLog } from "./env.js";

/** A SEA command processor on real Postgres and NATS, for tests that drive deliveries. */
export function testProcessor(o: {
  namespace: string;
  pool: pg.Pool;
  nc: NatsConnection;
  handlers: HandlerRegistry;
  ackWaitMs: number;
}): CommandProcessor {
  const subjects = subjectSpace(o.namespace);
  return new CommandProcessor({
    context: "sea",
    subjects,
    inbox: new PgInboxStore(o.pool),
    publisher: new JetStreamPublisher(o.nc.jetstream()),
    live: new NatsLivePublisher(o.nc),
    cancellations: new PgCancellationStore(o.pool),
    broadcast: new NatsCancelBroadcast(o.nc, subjects),
    handlers: o.handlers,
    ackWaitMs: o.ackWaitMs,
    maxDeliver: 3,
    log: testLog,
    shutdown: new AbortController().signal,
  });
}
