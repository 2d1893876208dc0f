import type { JetStreamManager, NatsConnection } from "nats";
import type pg from "pg";
import { CONTEXTS, type ContextName, type SubjectSpace } from "../contracts/index.js";
import { loadMigrations, schemaVersion } from "../adapters/postgres/migrator.js";
import type { ReadinessCheck } from "../src/ports.js";
import type { RoleParts } from "./roles.js";

/** What the checks reach. */
export interface ReadinessTargets {
  nc: NatsConnection;
  jsm: JetStreamManager;
  subjects: SubjectSpace;
  pools: Record<ContextName, pg.Pool>;
}

/**
 * The readiness checks of a process (its `/health/ready`, the status page), one builder for
 * every role: the databases of its contexts at the code's schema version, NATS answering, and the
 * streams its parts use — the command streams; the event streams for a gateway or relay; the
 * dead-letter stream and the durable consumer for a worker.
 */
export async function readinessChecks(
  t: ReadinessTargets,
  parts: Pick<RoleParts, "gateway" | "relay" | "worker">,
  contexts: readonly ContextName[] = CONTEXTS,
): Promise<ReadinessCheck[]> {
  const latest = (await loadMigrations()).at(-1)?.version ?? 0;
  const events = parts.gateway || parts.relay;
  return [
    ...contexts.map((ctx) => ({
      name: `postgres:${ctx}`,
      check: async () => {
        const v = await schemaVersion(t.pools[ctx]);
        if (v !== latest) throw new Error(`schema version ${v}, expected ${latest}`);
      },
    })),
    {
      name: "nats",
      check: async () => {
        if (t.nc.isClosed()) throw new Error("connection closed");
        await t.nc.flush();
      },
    },
    {
      name: parts.worker ? "streams and consumer" : "streams",
      check: async () => {
        for (const ctx of contexts) {
          await t.jsm.streams.info(t.subjects.commandStream(ctx));
          if (events) await t.jsm.streams.info(t.subjects.eventStream(ctx));
          if (parts.worker) {
            await t.jsm.streams.info(t.subjects.dlqStream(ctx));
            await t.jsm.consumers.info(
              t.subjects.commandStream(ctx),
              t.subjects.workerDurable(ctx),
            );
          }
        }
      },
    },
  ];
}
