import type { PrivateNats } from "./lib/private-nats.js";
import type { PrivatePostgres } from "./lib/private-postgres.js";
import type { Roles } from "./lib/roles.js";

/** What a fault can act on: the role processes and the suite's own servers. */
export interface FaultTools {
  roles: Roles;
  nats: PrivateNats;
  postgres: PrivatePostgres;
  /** The handler service's base URL (its control endpoints). */
  handlerBase: string;
  /** The server leading the SEA command stream or its workers' consumer (a JetStream cluster). */
  leaderOf(what: "command stream" | "worker consumer"): Promise<string>;
  /** The cluster node most of the gateways' NATS connections are on. */
  gatewaysNode(): Promise<string>;
  /** Marks the moment the failed server is back (accepting clients): recovery is timed from it. */
  recovered(): void;
}

/** One chaos scenario: which capability its requests use, and the fault injected mid-load. */
export interface Scenario {
  name: string;
  /** Runs on a 3-node JetStream cluster with R3 streams instead of the single server. */
  cluster?: boolean;
  /** The capability (model id) request `i` uses. */
  model(i: number): string;
  /** Request `i` is built to be refused as poison (422 from the handler service). */
  poison?(i: number): boolean;
  /** Injected once the load is under way; resolves when the fault is over (restarts done). */
  fault?(t: FaultTools): Promise<string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sampling = (i: number) => (i % 4 === 3 ? "sample-vp" : "sample");

/** The scenarios, in the order they run. */
export const SCENARIOS: Scenario[] = [
  { name: "no fault (baseline)", model: sampling },
  {
    name: "worker kill -9 mid-stream",
    model: sampling,
    fault: async ({ roles }) => {
      await roles.kill("worker-sea-1");
      return "worker-sea-1 killed; worker-sea-2 takes its streams over";
    },
  },
  {
    name: "relay kill -9 (restart after 2 s)",
    model: sampling,
    fault: async ({ roles }) => {
      await roles.kill("relay");
      await sleep(2_000);
      await roles.restart("relay");
      return "relay killed, restarted after 2 s";
    },
  },
  {
    name: "gateway kill -9, clients resume on the other",
    model: sampling,
    fault: async ({ roles }) => {
      await roles.kill("gateway-1");
      await sleep(3_000);
      await roles.restart("gateway-1");
      return "gateway-1 killed, restarted after 3 s; its clients resume on gateway-2";
    },
  },
  {
    name: "NATS kill -9, restart after 2 s",
    model: sampling,
    fault: async ({ nats, recovered }) => {
      const t0 = Date.now();
      await nats.kill("n1");
      await sleep(2_000);
      await nats.restart("n1");
      recovered();
      return `NATS down ${((Date.now() - t0) / 1000).toFixed(1)} s`;
    },
  },
  {
    name: "PostgreSQL crash and restart (~3 s down)",
    model: sampling,
    fault: async ({ postgres, recovered }) => {
      const t0 = Date.now();
      await postgres.crash();
      // Crash recovery adds about two seconds on this machine.
      await sleep(1_000);
      await postgres.restart();
      recovered();
      return `PostgreSQL down ${((Date.now() - t0) / 1000).toFixed(1)} s (crash recovery included)`;
    },
  },
  {
    name: "handler 503 burst (2 s) and 422 poison",
    model: () => "svc",
    poison: (i) => i % 8 === 5,
    fault: async ({ handlerBase }) => {
      await fetch(`${handlerBase}/control/burst?ms=2000`, { method: "POST" });
      return "handler service answered 503 to every call for 2 s; every 8th request is poison (422)";
    },
  },
  {
    name: "3-node JetStream cluster (R3), stream leader kill -9",
    cluster: true,
    model: sampling,
    fault: async ({ nats, leaderOf }) => {
      const leader = await leaderOf("command stream");
      await nats.kill(leader);
      return `killed ${leader}, the leader of the SEA command stream; left down`;
    },
  },
  {
    name: "3-node JetStream cluster (R3), worker consumer leader kill -9",
    cluster: true,
    model: sampling,
    fault: async ({ nats, leaderOf }) => {
      const leader = await leaderOf("worker consumer");
      await nats.kill(leader);
      return `killed ${leader}, the leader of the SEA workers' consumer; left down`;
    },
  },
  {
    name: "3-node JetStream cluster (R3), the gateways' node kill -9",
    cluster: true,
    model: sampling,
    fault: async ({ nats, gatewaysNode }) => {
      const node = await gatewaysNode();
      await nats.kill(node);
      return `killed ${node}, the node most gateway connections were on; left down`;
    },
  },
];
