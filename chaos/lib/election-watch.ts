import { connect, type NatsConnection } from "nats";

/** One leader election of a stream or consumer, as its JetStream advisory told it. */
export interface Election {
  /** `stream SEA_COMMANDS` or `consumer SEA_COMMANDS/sea_workers`. */
  what: string;
  leader: string;
  /** Epoch ms the suite received the advisory. */
  at: number;
}

const ADVISORIES = "$JS.EVENT.ADVISORY.*.LEADER_ELECTED.>";

/** The election an advisory subject and body describe, or null for another kind. */
export function electionOf(subject: string, body: string, at: number): Election | null {
  const tokens = subject.split(".");
  // $JS.EVENT.ADVISORY.<STREAM|CONSUMER>.LEADER_ELECTED.<stream>[.<consumer>]
  const [kind, , stream, consumer] = tokens.slice(3);
  let leader = "?";
  try {
    leader = String((JSON.parse(body) as { leader?: unknown }).leader ?? "?");
  } catch {
    // A body the suite cannot read still marks the moment.
  }
  if (kind === "STREAM" && stream) return { what: `stream ${stream}`, leader, at };
  if (kind === "CONSUMER" && stream && consumer) {
    return { what: `consumer ${stream}/${consumer}`, leader, at };
  }
  return null;
}

/**
 * Records the leader elections of the streams and consumers whose names start with `prefix`,
 * over one connection to each node (no reconnect): an advisory published while the suite's
 * connection to the killed node is down still arrives over another node's.
 */
export class ElectionWatch {
  readonly elections: Election[] = [];
  private readonly seen = new Set<string>();

  private constructor(
    private readonly conns: NatsConnection[],
    private readonly prefix: string,
  ) {}

  static async start(urls: string[], prefix: string): Promise<ElectionWatch> {
    const conns = await Promise.all(
      urls.map((u) => connect({ servers: u, reconnect: false, name: "chaos-election-watch" })),
    );
    const w = new ElectionWatch(conns, prefix);
    for (const nc of conns) {
      nc.subscribe(ADVISORIES, {
        callback: (_err, m) => {
          const e = electionOf(m.subject, m.string(), Date.now());
          // The same advisory arrives over every connection: its body (with its id) is its key.
          const id = m.string();
          if (!e || w.seen.has(id) || !e.what.split(" ")[1]!.startsWith(w.prefix)) return;
          w.seen.add(id);
          w.elections.push(e);
        },
      });
    }
    await Promise.all(conns.map((nc) => nc.flush()));
    return w;
  }

  /** The elections received after `t` (epoch ms), earliest first. */
  since(t: number): Election[] {
    return this.elections.filter((e) => e.at >= t).sort((a, b) => a.at - b.at);
  }

  async stop(): Promise<void> {
    await Promise.all(this.conns.map((nc) => nc.close().catch(() => undefined)));
  }
}
