import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { connect } from "nats";
import pg from "pg";
import { subjectSpace, type ContextName } from "../contracts/index.js";
import { mintKey } from "../adapters/auth/jwt-verifier.js";
import { ID_NAMESPACES, uuidV5 } from "../src/ids.js";
import { promptOf } from "./lib/answers.js";
import { jsonLines, script } from "./lib/helper-processes.js";
import {
  brokenInvariants,
  checkInvariants,
  deadLetteredIds,
  readStreams,
} from "./lib/invariants.js";
import { ElectionWatch } from "./lib/election-watch.js";
import { judge } from "./lib/judge.js";
import type { LoadPlan, RequestReport } from "./lib/load-plan.js";
import { PrivateNats } from "./lib/private-nats.js";
import type { PrivatePostgres } from "./lib/private-postgres.js";
import { Roles } from "./lib/roles.js";
import { phaseNotes, phaseTimings } from "./lib/phase-timings.js";
import type { ScenarioFigures } from "./lib/table.js";
import { recoveryNote, resumedAfter, stallAt } from "./lib/verdict.js";
import type { Scenario } from "./scenarios.js";

const CLIENT_TIMEOUT_MS = 60_000;
const TENANT = "chaos";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The suite's own servers and helper processes, shared by the scenarios. */
export interface Suite {
  dir: string;
  postgres: PrivatePostgres;
  nats: PrivateNats;
  catalogFile: string;
  upstreamUrl: string;
  handlerBase: string;
  secret: string;
}

/** The load: requests per scenario, their spacing, the answer's length and pace, the fault. */
export interface LoadShape {
  requests: number;
  spacingMs: number;
  chunks: number;
  intervalMs: number;
  faultAtMs: number;
}

export interface ScenarioResult {
  figures: ScenarioFigures;
  notes: string[];
}

/** Runs the load of `scenario` through the clients' process and injects its fault. */
async function runLoad(
  scenario: Scenario,
  plan: LoadPlan,
  faultAtMs: number,
  inject: () => Promise<string>,
): Promise<{ reports: RequestReport[]; faultAt: number | null; faultNote: string }> {
  const client = script("load-client.ts", []);
  let faultAt: number | null = null;
  let fault: Promise<string> = Promise.resolve("");
  const results = new Promise<RequestReport[]>((resolve) =>
    jsonLines(client, (v) => {
      if (v.type === "started" && scenario.fault) {
        setTimeout(() => {
          faultAt = Date.now();
          fault = inject();
        }, faultAtMs);
      }
      if (v.type === "results") resolve(v.results as RequestReport[]);
    }),
  );
  client.stdin!.end(JSON.stringify(plan));
  const reports = await results;
  return { reports, faultAt, faultNote: await fault };
}

/** Waits until every command has a terminal event and a processed inbox row (bounded). */
async function settled(urls: Record<ContextName, string>, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const streams = await readStreams(urls).catch(() => null);
    const done =
      streams && [...streams.values()].every((s) => s.terminals.length > 0 && s.processed);
    if (done || Date.now() > until) return streams ?? readStreams(urls);
    await sleep(500);
  }
}

/** `fn()`, asked again while JetStream does not answer in time (bounded). */
async function untilAnswered<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code !== "TIMEOUT" && code !== "503") || Date.now() > until) throw err;
      await sleep(500);
    }
  }
}

/** Epoch ms of every command claim (first delivery to a worker) in each context's inbox. */
async function claimTimes(
  urls: Record<ContextName, string>,
): Promise<Record<ContextName, number[]>> {
  const out = { sea: [] as number[], vibespro: [] as number[] };
  for (const ctx of ["sea", "vibespro"] as const) {
    const c = new pg.Client({ connectionString: urls[ctx] });
    await c.connect();
    try {
      const r = await c.query<{ at: string }>(
        "SELECT (extract(epoch FROM received_at) * 1000)::float8 AS at FROM inbox_messages",
      );
      out[ctx] = r.rows.map((row) => Number(row.at));
    } finally {
      await c.end();
    }
  }
  return out;
}

/** Runs one scenario on fresh databases and streams: roles, load, fault, verdicts, invariants. */
export async function runScenario(
  suite: Suite,
  scenario: Scenario,
  index: number,
  load: LoadShape,
): Promise<ScenarioResult> {
  const ns = `chaos${index}${randomBytes(3).toString("hex")}`;
  const logDir = path.join(suite.dir, ns);
  const nats = scenario.cluster
    ? await PrivateNats.start(path.join(logDir, "cluster"), 3)
    : suite.nats;
  const urls = {
    sea: suite.postgres.url(`${ns}_sea`),
    vibespro: suite.postgres.url(`${ns}_vibespro`),
  };
  const env = {
    NATS_URL: nats.url,
    SEA_DATABASE_URL: urls.sea,
    VIBESPRO_DATABASE_URL: urls.vibespro,
    GATEWAY_JWT_SECRET: suite.secret,
    NATS_NAMESPACE: ns,
    CAPABILITIES_FILE: suite.catalogFile,
    UPSTREAM_OPENAI_BASE_URL: suite.upstreamUrl,
    SEA_HANDLER_URL: `${suite.handlerBase}/handle`,
    JETSTREAM_REPLICAS: scenario.cluster ? "3" : "1",
    LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? "info",
  };
  mkdirSync(logDir, { recursive: true });
  const roles = new Roles(env, logDir);
  const subjects = subjectSpace(ns);
  let elections: ElectionWatch | null = null;
  try {
    await roles.migrate();
    await roles.startAll();
    const key = await mintKey(suite.secret, { tenant: TENANT, ttlSecs: 3600 });
    const plan: LoadPlan = {
      gateways: roles.gateways,
      key,
      timeoutMs: CLIENT_TIMEOUT_MS,
      maxResumes: 4,
      requests: Array.from({ length: load.requests }, (_, i) => ({
        tag: `s${index}r${i}`,
        model: scenario.model(i),
        text: promptOf(
          `s${index}r${i}`,
          `${randomBytes(4).toString("hex")}${scenario.poison?.(i) ? " poison" : ""}`,
        ),
        idempotencyKey: `${ns}-${i}`,
        gateway: i % 2,
        atMs: i * load.spacingMs,
      })),
    };
    const leaderOf = async (what: "command stream" | "worker consumer") => {
      const nc = await connect({ servers: nats.url.split(",") });
      try {
        const jsm = await nc.jetstreamManager();
        const stream = subjects.commandStream("sea");
        const info =
          what === "command stream"
            ? await jsm.streams.info(stream)
            : await jsm.consumers.info(stream, subjects.workerDurable("sea"));
        return info.cluster?.leader ?? "n1";
      } finally {
        await nc.close();
      }
    };
    // On a cluster, the leader elections after the kill are timed from their advisories.
    if (scenario.cluster) {
      elections = await ElectionWatch.start(
        nats.nodes.map((n) => `nats://127.0.0.1:${n.port}`),
        `${ns.toUpperCase()}_`,
      );
    }
    let recoveredAt: number | null = null;
    const tools = {
      roles,
      nats,
      postgres: suite.postgres,
      handlerBase: suite.handlerBase,
      leaderOf,
      gatewaysNode: async () => (await nats.nodeWithMost("sea-gateway-gateway")) ?? "n1",
      recovered: () => void (recoveredAt = Date.now()),
    };
    const { reports, faultAt, faultNote } = await runLoad(scenario, plan, load.faultAtMs, () =>
      scenario.fault!(tools).catch((err: unknown) => `fault failed: ${String(err)}`),
    );
    const streams = await settled(urls, 30_000);
    const nc = await connect({ servers: nats.url.split(",") });
    // On a cluster left one node short, a stream may still be electing its leader: ask again.
    const deadLetters = await untilAnswered(async () =>
      deadLetteredIds(await nc.jetstreamManager(), subjects),
    ).finally(() => nc.close());
    const handlerStats = (await (await fetch(`${suite.handlerBase}/stats`)).json()) as {
      answered: Record<string, number>;
    };
    const invariants = checkInvariants(streams, deadLetters, handlerStats.answered, load.chunks);
    const streamIdOf = (r: RequestReport, i: number) =>
      r.streamId || uuidV5(`${TENANT}\n${plan.requests[i]!.idempotencyKey}`, ID_NAMESPACES.stream);
    const { verdicts, errorCodes, examples } = judge(reports, streamIdOf, streams, load.chunks);
    const notes = faultNote ? [faultNote] : [];
    // The raw reports, for reading a surprising figure afterwards.
    writeFileSync(path.join(logDir, "client-reports.json"), JSON.stringify({ faultAt, reports }));
    const resumes = reports.flatMap((r) => r.exchanges).filter((e) => e.kind !== "post").length;
    if (resumes > 0) notes.push(`${resumes} resumes or retried POSTs after broken connections`);
    if (faultAt !== null && recoveredAt !== null) {
      notes.push(recoveryNote(resumedAfter(reports, faultAt, recoveredAt)));
    }
    if (faultAt !== null && elections) {
      notes.push(
        ...phaseNotes(phaseTimings(faultAt, elections.elections, await claimTimes(urls), reports)),
      );
    }
    notes.push(...examples);
    return {
      figures: {
        name: scenario.name,
        requests: reports.length,
        verdicts,
        errorCodes,
        stall: faultAt === null ? null : stallAt(reports, faultAt),
        invariants: brokenInvariants(invariants),
      },
      notes,
    };
  } finally {
    await elections?.stop();
    await roles.stopAll();
    await suite.postgres
      .dropDatabases([`${ns}_sea`, `${ns}_vibespro`])
      .catch((err: unknown) => process.stderr.write(`could not drop ${ns}'s databases: ${err}\n`));
    if (scenario.cluster) {
      await nats.stop();
      nats.removeStores();
    }
  }
}
