import type { ContextName, Envelope } from "../contracts/index.js";

/**
 * Ports: the interfaces the gateway, relay and worker depend on. Implementations live in
 * `adapters/`; the entry point in `bin/` wires them together.
 *
 * Glossary (the words the code uses, in the order a request meets them):
 * - stream: one request's durable answer, named by its stream id (`X-Stream-Id`); it outlives
 *   the connection that started it and can be read from any gateway instance.
 * - command: what a request becomes (`chat_completion`, `editor_action`, `chat_cancel`), written
 *   to the owning context's outbox; its id derives from the tenant and the stream id.
 * - outbox row: a message waiting in a context's database to be published (command or terminal
 *   result event); its id is the envelope's `event_id` and the `Nats-Msg-Id`.
 * - inbox row: a command a worker has received; its primary key dedupes redeliveries.
 * - attempt: one inbox claim of a command by a worker, numbered by the claim; each attempt
 *   numbers its deltas 1..n (`seq`) and, if it wins, ends with the terminal event at n+1.
 * - settlement: how a worker closes a delivery once its outcome is known (the decision table:
 *   ack, settle with the terminal event, retry, dead-letter), committed before the ack.
 * - result subject: where one stream's result events travel (`…chat_result.v1.<tenant>.<stream>`:
 *   stored on JetStream, and live on core NATS under `…live…`).
 * - feed: one gateway instance's subscription to a stream's results, live with gaps filled from
 *   the stored copy, put in order by the attempt sequencer.
 * - delivery: what a feed hands on, in order: a delta (with its seq), a `reset` (the answer moved
 *   to another attempt whose text differs), or the terminal event (completed or failed).
 * - generation: a run's count of resets; a reader that sees it change starts over.
 * - run: one stream followed by one gateway instance (`ChatRun`): its feed, readers, slots,
 *   deadline, grace and cancel; disposed when nobody here needs it any more.
 * - reader: one client's position in a run (`RunReader`): the deliveries after its cursor.
 * - surface: a protocol a client reads runs through (SSE, WebSocket, MCP, the Responses API…);
 *   it admits work through the admission door and translates deliveries, nothing more.
 */

/** A message to write to an outbox. */
export interface OutboxMessage {
  subject: string;
  aggregateType: string;
  aggregateId: string;
  envelope: Envelope;
  traceId?: string | undefined;
}

/** Writes commands into the owning context's outbox, all in one transaction. */
export interface OutboxWriter {
  /**
   * Inserts the messages; one whose id is already there is left as it is (a retried request
   * with the same idempotency key). Returns the ids actually inserted.
   */
  enqueue(context: ContextName, messages: OutboxMessage[]): Promise<string[]>;
}

/** Records rows published outside the relay (immediate dispatch). */
export interface OutboxPublishedMarker {
  markPublished(context: ContextName, ids: string[]): Promise<void>;
}

/** An outbox row claimed by a relay. */
export interface ClaimedOutboxRow {
  id: string;
  subject: string;
  envelope: Envelope;
  attempts: number;
  /** The W3C traceparent the row was written under (its `trace_id`), if any. */
  traceparent?: string | null | undefined;
}

/** What happened to one claimed row. */
export type PublishOutcome =
  | { id: string; ok: true }
  | {
      id: string;
      ok: false;
      error: string;
      /**
       * The bus refuses the row for what it is: it is closed as refused (never retried) and
       * `instead` is written in its place, in the same transaction (the terminal event its
       * client waits for).
       */
      refused?: { instead: OutboxMessage[] };
    };

/** One context's outbox, as the relay sees it. */
export interface OutboxRelayStore {
  /**
   * Claims up to `limit` due rows (`FOR UPDATE SKIP LOCKED`, so relays never share a row), lets
   * `publish` run while they stay locked, then records each outcome in the same transaction.
   * Returns how many rows were claimed.
   */
  relayBatch(
    limit: number,
    publish: (rows: ClaimedOutboxRow[]) => Promise<PublishOutcome[]>,
  ): Promise<number>;
  /** Resolves on a NOTIFY for new rows, after `timeoutMs`, or when `signal` aborts. */
  waitForRows(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /**
   * Makes rows that are waiting out a failed publish's backoff due now, and wakes a waiting
   * relay: the bus is back, and their next attempt need not wait up to 30 s. Returns how many.
   */
  retryFailedNow(): Promise<number>;
  close(): Promise<void>;
}

/** Headers carried with each published message. */
export interface MessageHeaders {
  correlationId: string;
  causationId: string | null;
  tenantId: string;
  /** W3C trace context of the span that sends the message (the `traceparent` header). */
  traceparent?: string | null | undefined;
}

/** Publishes to JetStream with a deduplication id (`Nats-Msg-Id`). */
export interface StreamPublisher {
  publish(subject: string, data: Uint8Array, msgId: string, headers: MessageHeaders): Promise<void>;
}

/**
 * Publishes on core NATS: at most once, not stored, no ack to wait for. Live results use it;
 * what they carry is also stored (batched deltas, terminal events through the outbox), so a
 * message lost here is read from the stream.
 */
export interface LivePublisher {
  publishLive(subject: string, data: Uint8Array): void;
  /**
   * Declares that this process produces on `subject` (a worker's attempt, from its claim to
   * its end, see `LocalLiveBus`): readers in the same process take its messages directly, and
   * while nobody else reads the subject they are not sent over the bus at all. Optional: a
   * bus-only publisher has none, and its producers publish with {@link publishLive}.
   */
  produce?(subject: string): LiveProducer;
}

/** One attempt's live messages on its subject (see {@link LivePublisher.produce}). */
export interface LiveProducer {
  /** Sends one message to every reader of the subject, in this process and elsewhere. */
  publish(data: Uint8Array): void;
  /** The attempt has ended; safe to call more than once. */
  stop(): void;
}

/** Whether a live subject has readers this process cannot see (other gateway instances). */
export interface LiveInterest {
  /** True if anyone else reads `subject` now, or if that cannot be told (then: assume so). */
  othersListen(subject: string): Promise<boolean>;
}

/** A raw result message as delivered to the gateway. */
export interface RawResult {
  data: Uint8Array;
}

/** A live subscription to one result subject. */
export interface ResultSubscription {
  /** Stops the subscription. */
  close(): void;
}

/** Stored messages read from a cursor, and the cursor to read from next time. */
export interface StoredResults {
  messages: RawResult[];
  /** The stream sequence after the last message returned (pass it back as `fromSeq`). */
  nextSeq: number;
}

/** Live results and their replay from the stream. */
export interface ResultFeed {
  /**
   * Subscribes to `subject`. Messages this process publishes afterwards on the same connection
   * are ordered after the subscription; anything missed is recovered through {@link replay}.
   */
  subscribe(
    subject: string,
    onMessage: (msg: RawResult) => void,
    /**
     * Called when live messages on this subject may have been missed for a reason of this
     * subscription's own (its local producer stopped, see `LocalLiveBus`): read the stored
     * stream. A lost connection is told to every subscription through {@link onReconnect}.
     */
    onMissed?: () => void,
  ): Promise<ResultSubscription>;
  /**
   * The stored messages on `subject` in stream order, from stream sequence `fromSeq` on (fills
   * gaps and serves resumes without re-reading what was read before).
   */
  replay(context: ContextName, subject: string, fromSeq?: number): Promise<StoredResults>;
  /**
   * Calls `listener` after the connection to the bus came back: live messages may have been
   * lost meanwhile. Returns a function that stops listening.
   */
  onReconnect(listener: () => void): () => void;
}

/** A command delivered to a worker by its pull consumer. */
export interface DeliveredCommand {
  subject: string;
  data: Uint8Array;
  /** `Nats-Msg-Id`: the outbox id, the inbox primary key. Absent ⇒ poison. */
  messageId: string | undefined;
  /** 1 on first delivery. */
  deliveryCount: number;
  /** The `traceparent` header it was published with, if any. */
  traceparent?: string | undefined;
  ack(): Promise<void>;
  nak(delayMs: number): void;
}

/** A context's command stream, consumed by competing workers through one durable consumer. */
export interface CommandSource {
  /** Delivers messages to `handle`, at most `maxInflight` at once, until `stop`. */
  start(handle: (cmd: DeliveredCommand) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** The inbox claim's verdict. */
export type InboxClaim =
  /** `cancelled`: the stream named with the claim has been cancelled (do not start it). */
  | { status: "claimed"; attempts: number; cancelled: boolean }
  | { status: "processed" }
  | { status: "busy"; retryInMs: number };

/** One context's inbox, and the outbox its terminal events go through. */
export interface InboxStore {
  /**
   * Inserts the inbox row (PK = message id) or takes a lease on an unprocessed one, in one round
   * trip. A row already processed is a duplicate; a row leased by another live worker is busy.
   * With `stream`, the claim also says whether that stream was cancelled.
   */
  claim(
    messageId: string,
    eventType: string,
    leaseMs: number,
    stream?: { tenant: string; streamId: string },
  ): Promise<InboxClaim>;
  /** Renews the leases of the messages this worker runs (one statement for all). */
  extendLeases(messageIds: string[], leaseMs: number): Promise<void>;
  /** Records a failed attempt and frees the lease so a redelivery can claim it. */
  release(messageId: string, error: string): Promise<void>;
  /**
   * Marks the row processed (inserting it if absent) and writes `outbox` messages, in one
   * transaction. If the row was already processed nothing is written; returns whether this call
   * closed it.
   */
  complete(
    messageId: string,
    eventType: string,
    outbox: OutboxMessage[],
    error?: string,
  ): Promise<boolean>;
  /**
   * Like {@link complete}, but only for a message no worker holds (not received yet, or its
   * lease has run out): a cancelled command that has not started is closed before it can.
   */
  closeUnstarted(messageId: string, eventType: string, outbox: OutboxMessage[]): Promise<boolean>;
}

/** A verified caller. */
export interface Principal {
  tenant: string;
  keyId: string | undefined;
  /** When the credential expires (epoch seconds), if it does. */
  expiresAt?: number | undefined;
  /** Model ids this key may use; absent = all. */
  models?: string[] | undefined;
  /** Per-key limits carried by the key. */
  limits?: { rpm?: number; maxStreams?: number } | undefined;
  /** The key may read operational state (the status page). */
  admin?: boolean | undefined;
}

/** Revoked key ids (`jti`), reloaded while running. */
export interface RevocationList {
  isRevoked(keyId: string): boolean;
}

/** Checks bearer tokens. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** One readiness check (Postgres, NATS, streams, migrations). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/**
 * Cancelled streams, recorded in the context's database (a stream id is a tenant's). Whether a
 * stream is cancelled is read with its command's inbox claim ({@link InboxStore.claim}).
 */
export interface CancellationStore {
  markCancelled(tenant: string, streamId: string, reason: string): Promise<void>;
}

/** Tells every worker of a context, live, that a stream was cancelled. */
export interface CancelBroadcast {
  announce(context: ContextName, tenant: string, streamId: string): void;
  /** Calls `onCancel` for each announcement; returns a function that stops listening. */
  listen(context: ContextName, onCancel: (tenant: string, streamId: string) => void): () => void;
}

export * from "./ports/read-models.js";
