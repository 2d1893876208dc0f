import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
  type JetStreamManager,
  type StreamConfig,
} from "nats";
import type { ContextName, SubjectSpace } from "../../contracts/index.js";

const HOUR_NS = nanos(3_600_000);

/**
 * The streams a context owns, named and bounded, each kept in `replicas` copies (JETSTREAM_REPLICAS:
 * 3 on a cluster, so losing one server loses nothing and stops nothing).
 */
export function contextStreams(
  subjects: SubjectSpace,
  ctx: ContextName,
  replicas = 1,
): Partial<StreamConfig>[] {
  const common = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    duplicate_window: nanos(120_000),
  };
  return [
    {
      ...common,
      name: subjects.commandStream(ctx),
      subjects: [subjects.commandFilter(ctx)],
      max_age: 7 * 24 * HOUR_NS,
      description: `${ctx} capability commands (written by the outbox relay)`,
    },
    {
      ...common,
      name: subjects.eventStream(ctx),
      subjects: [subjects.eventFilter(ctx)],
      max_age: 24 * HOUR_NS,
      // Direct get serves gap fills and resumes without creating a consumer.
      allow_direct: true,
      description: `${ctx} result events (deltas, completed, failed)`,
    },
    {
      ...common,
      name: subjects.dlqStream(ctx),
      subjects: [subjects.dlq(ctx)],
      max_age: 30 * 24 * HOUR_NS,
      description: `${ctx} dead-lettered commands`,
    },
  ];
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { err_code?: number } };
  return e.code === "404" || e.api_error?.err_code === 10059;
}

/**
 * Creates the context's streams, or brings an existing one's settings up to date. Idempotent
 * and safe to run from several processes. Other services' streams are left alone; a subject
 * overlap with one of them is reported by the server and fails provisioning.
 */
export async function provisionStreams(
  jsm: JetStreamManager,
  subjects: SubjectSpace,
  ctx: ContextName,
  replicas = 1,
): Promise<void> {
  for (const cfg of contextStreams(subjects, ctx, replicas)) {
    const name = cfg.name!;
    try {
      const info = await jsm.streams.info(name);
      const c = info.config;
      const drift =
        JSON.stringify(c.subjects) !== JSON.stringify(cfg.subjects) ||
        c.max_age !== cfg.max_age ||
        Boolean(c.allow_direct) !== Boolean(cfg.allow_direct) ||
        c.duplicate_window !== cfg.duplicate_window ||
        c.num_replicas !== cfg.num_replicas;
      if (drift) await jsm.streams.update(name, { ...c, ...cfg });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.streams.add(cfg);
      } catch (addErr) {
        // Another process created it between our info and add.
        const e = addErr as { api_error?: { err_code?: number } };
        if (e.api_error?.err_code !== 10058) throw addErr;
      }
    }
  }
}

/** Settings of the durable pull consumer shared by a context's competing workers. */
export interface WorkerConsumerSettings {
  ackWaitMs: number;
  maxDeliver: number;
  maxAckPending: number;
}

/** Creates or updates the context's durable worker consumer. */
export async function provisionWorkerConsumer(
  jsm: JetStreamManager,
  subjects: SubjectSpace,
  ctx: ContextName,
  s: WorkerConsumerSettings,
): Promise<void> {
  const stream = subjects.commandStream(ctx);
  const durable = subjects.workerDurable(ctx);
  const cfg = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(s.ackWaitMs),
    // One more than the worker's own limit: at MAX_DELIVER the worker dead-letters and acks
    // itself, so the server never silently drops the message.
    max_deliver: s.maxDeliver + 1,
    max_ack_pending: s.maxAckPending,
    filter_subject: subjects.commandFilter(ctx),
  };
  try {
    const info = await jsm.consumers.info(stream, durable);
    const c = info.config;
    if (
      c.ack_wait !== cfg.ack_wait ||
      c.max_deliver !== cfg.max_deliver ||
      c.max_ack_pending !== cfg.max_ack_pending
    ) {
      await jsm.consumers.update(stream, durable, {
        ack_wait: cfg.ack_wait,
        max_deliver: cfg.max_deliver,
        max_ack_pending: cfg.max_ack_pending,
      });
    }
  } catch (err) {
    if (
      !isNotFound(err) &&
      (err as { api_error?: { err_code?: number } }).api_error?.err_code !== 10014
    )
      throw err;
    await jsm.consumers.add(stream, cfg);
  }
}
