import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from "nats";
import { readFile } from "node:fs/promises";
import type { Log } from "../../src/log.js";
import { parseNatsServers } from "../../src/nats-servers.js";
import { flushOncePerTurn } from "./turn-flush.js";

/** Bytes a connection buffers within a turn before it writes them at once. */
export const PENDING_LIMIT_BYTES = 512 * 1024;

/** Credentials for NATS: user/password and token ride in the URL; a creds file is separate. */
export interface NatsAuth {
  credsFile?: string | undefined;
}

/**
 * Connects to `url` (one seed or a comma-separated list: the first connection tries each seed
 * until one answers) with unbounded reconnects (a relay or worker must survive a NATS restart)
 * and logs connection status changes.
 */
export async function connectNats(
  url: string,
  name: string,
  log: Log,
  auth: NatsAuth = {},
): Promise<NatsConnection> {
  const parsed = parseNatsServers(url);
  // The configuration was validated at boot; a caller passing a bad URL is a programming error.
  if (!parsed.ok) throw new Error(`bad NATS URL: ${parsed.problems.join("; ")}`);
  const { servers, user, pass, token } = parsed.value;
  const opts: ConnectionOptions = {
    servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 10_000,
    // Capturing a stack per request costs more than the request itself on the hot path.
    noAsyncTraces: true,
  };
  // nats.js writes its buffer at once when it reaches this many bytes (32 KiB by default); a
  // worker storing the batches of hundreds of streams on one tick passes that many times over
  // in a turn, and each write is a syscall. A bigger buffer sends the turn's batches in a few
  // writes (see flushOncePerTurn). An option nats.js reads but does not declare.
  (opts as ConnectionOptions & { pendingLimit?: number }).pendingLimit = PENDING_LIMIT_BYTES;
  if (user !== undefined) {
    opts.user = user;
    opts.pass = pass;
  }
  if (token !== undefined) opts.token = token;
  if (auth.credsFile) opts.authenticator = credsAuthenticator(await readFile(auth.credsFile));
  const nc = await connect(opts);
  // One socket write per turn of the event loop, not per callback (see flushOncePerTurn).
  if (!flushOncePerTurn(nc)) {
    log.warn("nats client internals changed: writes are flushed per microtask, as nats.js does");
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "pingTimer") continue;
      log.info({ nats_status: s.type, data: String(s.data) }, "nats connection status");
    }
  })();
  return nc;
}
