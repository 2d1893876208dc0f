import { intersectSubjects } from "./subject-intersection.js";
import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
} from "nats";
import { BadRequestError, NotFoundError } from "../../src/errors.js";
import type {
  DomainEventMessage,
  DomainEventSource,
  DomainEventSubscription,
  EventStart,
} from "../../src/ports.js";

/** A consumer whose subscriber vanished (a crashed gateway) is deleted by the server after this. */
const INACTIVE_THRESHOLD_MS = 30_000;

function startConfig(start: EventStart): Partial<ConsumerConfig> {
  switch (start.deliver) {
    case "new":
      return { deliver_policy: DeliverPolicy.New };
    case "all":
      return { deliver_policy: DeliverPolicy.All };
    case "seq":
      return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.seq };
    case "time":
      return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.time };
  }
}

/**
 * Domain events through one named, short-lived pull consumer per subscription (never a fixed
 * durable name, so instances never collide): explicit acks, each event acked once its
 * subscriber took it, an inactivity threshold so the server deletes consumers left behind, and
 * a delete when the subscriber leaves.
 */
export class JetStreamDomainEventSource implements DomainEventSource {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  async subscribe(
    opts: { stream: string; filter: string; start: EventStart; name: string },
    onEvent: (event: DomainEventMessage) => Promise<void>,
  ): Promise<DomainEventSubscription> {
    const filter = await this.filterWithin(opts.stream, opts.filter);
    await this.jsm.consumers.add(opts.stream, {
      name: opts.name,
      ack_policy: AckPolicy.Explicit,
      filter_subject: filter,
      inactive_threshold: nanos(INACTIVE_THRESHOLD_MS),
      max_ack_pending: 256,
      ...startConfig(opts.start),
    });
    const consumer = await this.js.consumers.get(opts.stream, opts.name);
    const messages = await consumer.consume({ max_messages: 128 });
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      messages.stop();
      await this.jsm.consumers.delete(opts.stream, opts.name).catch(() => undefined);
    };
    void (async () => {
      try {
        for await (const m of messages) {
          await onEvent({
            seq: m.seq,
            subject: m.subject,
            time: new Date(Math.floor(m.info.timestampNanos / 1e6)).toISOString(),
            data: m.data,
          });
          m.ack();
        }
      } catch {
        // The subscriber is gone (it threw): the subscription ends with it.
        await close();
      }
    })();
    return { close };
  }

  /**
   * The caller's filter narrowed to the stream's subjects (NATS 2.9 takes only a filter within
   * them): 404 for a missing stream, 400 when the filter matches nothing the stream holds.
   */
  private async filterWithin(stream: string, filter: string): Promise<string> {
    let subjects: string[];
    try {
      subjects = (await this.jsm.streams.info(stream)).config.subjects ?? [];
    } catch (err) {
      const code = (err as { api_error?: { err_code?: number } }).api_error?.err_code;
      if (code === 10059) throw new NotFoundError(`No event stream ${stream}.`, "stream_not_found");
      throw err;
    }
    const within = subjects
      .map((s) => intersectSubjects(filter, s))
      .filter((s): s is string => s !== null);
    if (within.length === 1) return within[0]!;
    throw new BadRequestError(
      within.length === 0
        ? "'subject' matches nothing this event stream holds."
        : "'subject' spans several of the stream's subject spaces; name one.",
      "subject",
    );
  }
}
