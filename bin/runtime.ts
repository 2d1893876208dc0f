import { setMaxListeners } from "node:events";
import type { NatsConnection, JetStreamClient, JetStreamManager } from "nats";
import type pg from "pg";
import type { FastifyInstance } from "fastify";
import { CONTEXTS, subjectSpace, type ContextName, type SubjectSpace } from "../contracts/index.js";
import { JwtVerifier } from "../adapters/auth/jwt-verifier.js";
import { FileRevocationList } from "../adapters/auth/revocation-file.js";
import { JetStreamCommandSource } from "../adapters/nats/command-source.js";
import { connectNats } from "../adapters/nats/connection.js";
import {
  JetStreamPublisher,
  NatsLivePublisher,
  RESEND_WINDOW_MS,
} from "../adapters/nats/publisher.js";
import { watchBusBack } from "../adapters/nats/bus-back.js";
import { workerRepullTriggers } from "../adapters/nats/repull-triggers.js";
import { NatsResultFeed } from "../adapters/nats/result-feed.js";
import { LocalLiveBus } from "../src/local-live.js";
import { NatsLiveInterest } from "../adapters/nats/live-interest.js";
import { provisionStreams, provisionWorkerConsumer } from "../adapters/nats/streams.js";
import { NatsCancelBroadcast } from "../adapters/nats/cancel-broadcast.js";
import { NatsStreamPresence } from "../adapters/nats/stream-presence.js";
import { JetStreamDomainEventSource } from "../adapters/nats/domain-event-source.js";
import { PgCancellationStore } from "../adapters/postgres/cancellation-store.js";
import { PgInboxStore } from "../adapters/postgres/inbox-store.js";
import { PgConversationDirectory } from "../adapters/postgres/conversation-directory.js";
import { PgStreamDirectory } from "../adapters/postgres/stream-directory.js";
import { ensureDatabase, migrate, provisionContextRole } from "../adapters/postgres/migrator.js";
import { PgOutboxRelayStore } from "../adapters/postgres/outbox-relay-store.js";
import { PgOutboxWriter } from "../adapters/postgres/outbox-writer.js";
import { createPool } from "../adapters/postgres/pool.js";
import { CapabilityCatalog } from "../src/catalog.js";
import type { Config } from "../src/config.js";
import { buildGateway, type GatewayAppDeps } from "../src/gateway/app.js";
import { CachingVerifier } from "../src/gateway/http/caching-verifier.js";
import type { Log } from "../src/log.js";
import {
  ImmediateDispatcher,
  type LocalCommandDelivery,
} from "../src/outbox/immediate-dispatcher.js";
import type { CommandSource } from "../src/ports.js";
import { LocalCommandHandoff } from "../src/worker/local-handoff.js";
import { OutboxRelay } from "../src/relay/outbox-relay.js";
import { CommandProcessor } from "../src/worker/command-processor.js";
import type { HandlerRegistry } from "../src/worker/handler.js";
import type { Infrastructure } from "./infrastructure.js";
import { readinessChecks } from "./readiness.js";

/**
 * Stop order: the gateway first, so its open streams can still be served by the workers; parts
 * not named here stop last.
 */
const STOP_ORDER = ["gateway", "worker", "relay"];

/** Progress acks and lease renewals go out four times per ack wait (a lost one is harmless). */
const heartbeatEvery = (ackWaitMs: number) => Math.max(250, Math.floor(ackWaitMs / 4));

/** Something that can be stopped during the staged shutdown. */
interface Stoppable {
  name: string;
  /** Stops within `graceMs` where it can (in-flight requests are cut off after it). */
  stop(graceMs: number): Promise<void>;
}

/**
 * The composition root: connects to NATS and both databases once, then wires ports to adapters
 * for whichever roles this process runs (gateway, relays, workers).
 */
export class Runtime {
  readonly subjects: SubjectSpace;
  private readonly stoppables: Stoppable[] = [];
  private readonly dispatchers: ImmediateDispatcher[] = [];
  private readonly shutdown = new AbortController();
  private stopRequested = false;
  /** Live results between this process's workers and its gateway (see LocalLiveBus). */
  private readonly localLive: LocalLiveBus | null;
  /** Commands this process's gateway hands to its own workers at commit, per context. */
  private readonly handoffs = new Map<ContextName, LocalCommandHandoff>();

  private constructor(
    readonly config: Config,
    readonly infra: Infrastructure,
    readonly log: Log,
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly pools: Record<ContextName, pg.Pool>,
    /** Relaxed-commit pools for writes a retry repairs (see createPool). */
    readonly relaxedPools: Record<ContextName, pg.Pool>,
  ) {
    this.subjects = subjectSpace(config.namespace, config.dlqSubject);
    this.localLive = config.localLiveDelivery
      ? new LocalLiveBus(log, new NatsLiveInterest(nc))
      : null;
    // Every command waiting out a database outage listens to the shutdown signal (to stop
    // waiting when asked to stop): hundreds at once are expected, not a leak.
    setMaxListeners(0, this.shutdown.signal);
  }

  /** Connects to everything (no schema or stream changes). */
  static async connect(
    config: Config,
    infra: Infrastructure,
    log: Log,
    name: string,
  ): Promise<Runtime> {
    const nc = await connectNats(infra.natsUrl, name, log, { credsFile: config.natsCredsFile });
    const jsm = await nc.jetstreamManager();
    // A small fixed pool per database, whatever the handler concurrency: queries are short and
    // a burst waits for a connection (PG_POOL_WAIT_MS) instead of exhausting the server's.
    const onError = (err: Error) => log.warn({ err }, "postgres pool client error");
    const sized = { max: config.postgres.poolSize, waitMs: config.postgres.poolWaitMs, onError };
    const pools = {
      sea: createPool(infra.databaseUrls.sea, sized),
      vibespro: createPool(infra.databaseUrls.vibespro, sized),
    };
    const relaxed = {
      ...sized,
      max: Math.max(2, Math.ceil(config.postgres.poolSize / 2)),
      relaxedCommit: true,
    };
    const relaxedPools = {
      sea: createPool(infra.databaseUrls.sea, relaxed),
      vibespro: createPool(infra.databaseUrls.vibespro, relaxed),
    };
    return new Runtime(config, infra, log, nc, nc.jetstream(), jsm, pools, relaxedPools);
  }

  /** Creates missing databases, migrates them, provisions roles, streams and consumers. */
  static async prepare(config: Config, infra: Infrastructure, log: Log): Promise<void> {
    for (const ctx of CONTEXTS) {
      const url = infra.databaseUrls[ctx];
      await ensureDatabase(url, log);
      await migrate(url, log);
      await provisionContextRole(url, ctx, log, {
        app: config.rolePasswords[`${ctx}_app`],
        gateway: config.rolePasswords.sea_gateway,
      });
    }
    const nc = await connectNats(infra.natsUrl, "sea-gateway-migrate", log, {
      credsFile: config.natsCredsFile,
    });
    try {
      const jsm = await nc.jetstreamManager();
      const subjects = subjectSpace(config.namespace, config.dlqSubject);
      for (const ctx of CONTEXTS) {
        await provisionStreams(jsm, subjects, ctx, config.jetstreamReplicas);
        await provisionWorkerConsumer(jsm, subjects, ctx, {
          ackWaitMs: config.worker.ackWaitMs,
          maxDeliver: config.worker.maxDeliver,
          maxAckPending: config.worker.maxInflight * 4,
        });
      }
    } finally {
      await nc.drain();
    }
  }

  /** True from the first moment of a shutdown: readiness turns false. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Builds and starts the HTTP gateway (`extra`: optional parts such as the status page). */
  async startGateway(
    catalog: CapabilityCatalog,
    extra: Partial<GatewayAppDeps> = {},
  ): Promise<FastifyInstance> {
    const readiness = await readinessChecks(this, { gateway: true, relay: false, worker: false });
    const busResults = new NatsResultFeed(this.nc, this.jsm, this.subjects, this.log);
    const results = this.localLive?.results(busResults) ?? busResults;
    const gateway = buildGateway({
      catalog,
      subjects: this.subjects,
      outbox: new PgOutboxWriter(this.pools, this.config.relay.dispatchGraceMs),
      // In `up`, a command goes to this process's worker at commit (LOCAL_COMMAND_HANDOFF).
      dispatcher: this.dispatcher(
        this.log,
        (ctx, cmd) => this.handoffs.get(ctx)?.hand(cmd) ?? false,
      ),
      results,
      streams: new PgStreamDirectory(this.relaxedPools),
      conversations: new PgConversationDirectory(this.relaxedPools),
      presence: new NatsStreamPresence(this.nc, this.subjects),
      domainEvents: {
        source: new JetStreamDomainEventSource(this.js, this.jsm),
        rules: [...this.config.domainEventStreams],
      },
      verifier: new CachingVerifier(this.verifier()),
      ...(this.config.auth.revokedJtisFile
        ? { revocations: new FileRevocationList(this.config.auth.revokedJtisFile, this.log) }
        : {}),
      settings: this.config,
      bodyLimit: this.bodyLimit(),
      readiness,
      log: this.log,
      stopping: () => this.stopRequested,
      ...extra,
    });
    const app = gateway.app;
    // A deep accept queue: a burst of clients connecting while the event loop is busy waits to
    // be accepted instead of being reset (the kernel caps it at net.core.somaxconn).
    await app.listen({ port: this.config.port, host: this.config.host, backlog: 4096 });
    // Stop accepting; open requests get the grace period while the workers still run.
    this.stoppables.push({ name: "gateway", stop: (graceMs) => gateway.close(graceMs) });
    return app;
  }

  /** Checks API keys against the HS256 secret or the configured JWKS. */
  private verifier(): JwtVerifier {
    const { auth } = this.config;
    const common = {
      issuer: auth.issuer,
      audience: auth.audience,
      clockToleranceSecs: auth.clockToleranceSecs,
    };
    if (auth.jwksUrl) {
      return new JwtVerifier({
        jwksUrl: auth.jwksUrl,
        jwksCooldownMs: auth.jwksCooldownMs,
        ...common,
      });
    }
    return new JwtVerifier({ secret: this.infra.jwtSecret!, ...common });
  }

  /**
   * The request body limit: the configured one, kept under the server's NATS max payload
   * (less room for the envelope), so an accepted request always fits in one message.
   */
  private bodyLimit(): number {
    const maxPayload = this.nc.info?.max_payload ?? 1024 * 1024;
    return Math.min(this.config.limits.maxBodyBytes, maxPayload - 16 * 1024);
  }

  /** Publishes committed outbox rows at once; marks go through the relaxed pools. */
  private dispatcher(log: Log, local?: LocalCommandDelivery): ImmediateDispatcher {
    const d = new ImmediateDispatcher(
      new JetStreamPublisher(this.js),
      new PgOutboxWriter(this.relaxedPools),
      log,
      local,
    );
    this.dispatchers.push(d);
    return d;
  }

  /** Starts one context's outbox relay. */
  startRelay(ctx: ContextName): void {
    const log = this.log.child({ component: "relay", context: ctx });
    // Relaxed commit: a lost "published" mark only means a republish JetStream deduplicates.
    const store = new PgOutboxRelayStore(this.relaxedPools[ctx], this.infra.databaseUrls[ctx], log);
    const busBack = this.busBack(
      [
        this.subjects.commandStream(ctx),
        this.subjects.eventStream(ctx),
        this.subjects.dlqStream(ctx),
      ],
      log,
    );
    const relay = new OutboxRelay({
      context: ctx,
      subjects: this.subjects,
      store,
      // A batch pending when NATS comes back (or a stream it writes to has a new leader) is sent
      // again at once (see ResendClock), so rows written during an outage go out as soon as
      // JetStream is ready, not a timeout later.
      publisher: new JetStreamPublisher(this.js, 2_000, {
        retryForMs: RESEND_WINDOW_MS,
        log,
        onReconnect: busBack.add,
      }),
      batchSize: this.config.relay.batchSize,
      pollMs: this.config.relay.pollMs,
      log,
    });
    relay.start();
    busBack.add(() => relay.busBack());
    const stopWatching = busBack.stop;
    this.stoppables.push({
      name: `relay:${ctx}`,
      stop: async () => {
        stopWatching();
        await relay.stop();
        await store.close();
      },
    });
  }

  /**
   * One watch of the bus coming back for `streams` (a reconnect, a new stream leader) whose
   * listeners are added later; stopped with the part that made it.
   */
  private busBack(streams: string[], log: Log): { add: (l: () => void) => void; stop: () => void } {
    const listeners: (() => void)[] = [];
    const stop = watchBusBack(this.nc, streams, () => listeners.forEach((l) => l()), log);
    return { add: (l) => void listeners.push(l), stop };
  }

  /** Starts one context's worker: the shared durable consumer, the ack rules, `handlers`. */
  async startWorker(ctx: ContextName, handlers: HandlerRegistry): Promise<void> {
    const log = this.log.child({ component: "worker", context: ctx });
    // Stored deltas and dead letters pending while their stream elects a leader go again at once.
    const workerBusBack = this.busBack(
      [this.subjects.eventStream(ctx), this.subjects.dlqStream(ctx)],
      log,
    );
    const processor = new CommandProcessor({
      context: ctx,
      subjects: this.subjects,
      inbox: new PgInboxStore(
        this.pools[ctx],
        this.config.relay.dispatchGraceMs,
        this.relaxedPools[ctx],
      ),
      // Stored deltas and dead letters ride through a short NATS outage (a restart, a leader
      // election) instead of failing the attempt, which would answer the client again.
      publisher: new JetStreamPublisher(this.js, 2_000, {
        retryForMs: 30_000,
        log,
        onReconnect: workerBusBack.add,
      }),
      live:
        this.localLive?.publisher(new NatsLivePublisher(this.nc)) ?? new NatsLivePublisher(this.nc),
      dispatcher: this.dispatcher(log),
      handlers,
      cancellations: new PgCancellationStore(this.relaxedPools[ctx]),
      broadcast: new NatsCancelBroadcast(this.nc, this.subjects),
      ackWaitMs: this.config.worker.ackWaitMs,
      maxDeliver: this.config.worker.maxDeliver,
      log,
      shutdown: this.shutdown.signal,
    });
    const pulled = new JetStreamCommandSource(
      this.js,
      this.subjects,
      ctx,
      {
        batchSize: this.config.worker.batchSize,
        maxInflight: this.config.worker.maxInflight,
        heartbeatMs: heartbeatEvery(this.config.worker.ackWaitMs),
        // On a cluster, a pull waiting on a consumer leader that died is lost: pull again as
        // soon as a new leader is elected, or the connection is back on another server.
        repullTriggers: workerRepullTriggers(this.nc, this.subjects, ctx, log),
      },
      log,
    );
    let source: CommandSource = pulled;
    if (this.config.localCommandHandoff) {
      const handoff = new LocalCommandHandoff(
        ctx,
        {
          maxInflight: this.config.worker.maxInflight,
          leaseMs: this.config.worker.ackWaitMs,
          dispatchGraceMs: this.config.relay.dispatchGraceMs,
        },
        // Relaxed commit: a lost push or mark only lets a relay publish the row (a duplicate
        // the inbox answers), never loses it.
        new PgOutboxWriter(this.relaxedPools),
        log,
      );
      source = handoff.source(pulled);
      this.handoffs.set(ctx, handoff);
    }
    await source.start((cmd) => processor.process(cmd));
    this.stoppables.push({
      name: `worker:${ctx}`,
      stop: async () => {
        await source.stop();
        workerBusBack.stop();
        processor.close();
      },
    });
  }

  /**
   * Staged shutdown: stop accepting requests and let open streams finish while the workers still
   * run (after `graceMs` streams end with an error event and handlers are told to stop), then
   * stop workers and relays, drain NATS, end pools. Embedded services are stopped by the caller.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopRequested = true;
    const abortTimer = setTimeout(() => this.shutdown.abort(), graceMs);
    const stage = (s: Stoppable) => {
      const i = STOP_ORDER.indexOf(s.name.split(":")[0]!);
      return i === -1 ? STOP_ORDER.length : i;
    };
    for (const s of this.stoppables.splice(0).sort((a, b) => stage(a) - stage(b))) {
      await s
        .stop(graceMs)
        .catch((err: unknown) => this.log.warn({ err, part: s.name }, "stop failed"));
    }
    clearTimeout(abortTimer);
    await Promise.all(this.dispatchers.map((d) => d.close()));
    await this.nc.drain().catch(() => undefined);
    const pools = [...Object.values(this.pools), ...Object.values(this.relaxedPools)];
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  }
}
