import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from "nats";
import { readFile } from "node:fs/promises";
import type { Log } from "../../src/log.js";

/** Credentials for NATS: user/password and token ride in the URL; a creds file is separate. */
export interface NatsAuth {
  credsFile?: string | undefined;
}

/**
 * Connects with unbounded reconnects (a relay or worker must survive a NATS restart) and logs
 * connection status changes.
 */
export async function connectNats(
  url: string,
  name: string,
  log: Log,
  auth: NatsAuth = {},
): Promise<NatsConnection> {
  const u = new URL(url);
  const opts: ConnectionOptions = {
    servers: `${u.protocol}//${u.host}`,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 10_000,
    // Capturing a stack per request costs more than the request itself on the hot path.
    noAsyncTraces: true,
  };
  if (u.username && u.password) {
    opts.user = decodeURIComponent(u.username);
    opts.pass = decodeURIComponent(u.password);
  } else if (u.username) {
    opts.token = decodeURIComponent(u.username);
  }
  if (auth.credsFile) opts.authenticator = credsAuthenticator(await readFile(auth.credsFile));
  const nc = await connect(opts);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "pingTimer") continue;
      log.info({ nats_status: s.type, data: String(s.data) }, "nats connection status");
    }
  })();
  return nc;
}
