/**
 * `NATS_URL` as NATS clients take it: one URL or a comma-separated list of seeds
 * (`nats://a:4222,nats://b:4222`), so a process starts and reconnects while any one of them is
 * down. Credentials may ride in the URLs (`user:pass@` or `token@`); the connection sends one set
 * of credentials, so the seeds that carry some must carry the same.
 */

const SCHEMES = ["nats:", "tls:", "ws:", "wss:"];

/** The seeds without credentials, and the credentials they carried. */
export interface NatsServers {
  /** `scheme://host:port` of each seed, in the order given. */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
}

/** What a list holds, or every problem with it (one per entry at most). */
export type NatsServersParse = { ok: true; value: NatsServers } | { ok: false; problems: string[] };

export function parseNatsServers(list: string): NatsServersParse {
  const entries = list.split(",").map((s) => s.trim());
  const problems: string[] = [];
  const servers: string[] = [];
  const credentials = new Set<string>();
  let found: Omit<NatsServers, "servers"> = {};
  for (const [i, entry] of entries.entries()) {
    const where = entries.length > 1 ? `seed ${i + 1} ` : "";
    let u: URL;
    try {
      u = new URL(entry);
    } catch {
      problems.push(`${where}must be a URL such as nats://host:4222`);
      continue;
    }
    if (!SCHEMES.includes(u.protocol)) {
      problems.push(`${where}must start with nats://, tls://, ws:// or wss://`);
      continue;
    }
    if (!u.hostname) {
      problems.push(`${where}names no host`);
      continue;
    }
    servers.push(`${u.protocol}//${u.host}`);
    if (u.username || u.password) {
      const user = decodeURIComponent(u.username);
      const pass = decodeURIComponent(u.password);
      credentials.add(`${user}\n${pass}`);
      found = u.password ? { user, pass } : { token: user };
    }
  }
  // One client speaks either WebSocket or TCP to its servers, not both.
  if (new Set(servers.map((s) => s.startsWith("ws"))).size > 1) {
    problems.push("mixes WebSocket (ws://, wss://) and TCP seeds");
  }
  if (credentials.size > 1) {
    problems.push("seeds carry different credentials (the connection sends one set)");
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { servers, ...found } };
}
