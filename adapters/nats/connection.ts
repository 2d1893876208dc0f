import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from "nats";
import { readFile } from "node:fs/promises";
import type { Log } from "../../src/log.js";
import { parseNatsServers } from "../../src/nats-servers.js";
import { flushOncePerTurn } from "./turn-flush.js";

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
