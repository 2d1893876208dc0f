/**
 * The chaos suite (`npm run chaos`; `npm run chaos:short` for CI): the roles as separate
 * processes (two gateways, a relay, two workers per context) on a PostgreSQL and a NATS of its
 * own (never the machine's shared ones), a bounded streaming load per scenario, a fault
 * injected mid-load, then what the clients saw and what the databases hold. Prints the table as
 * markdown and writes it to chaos/last-run.md. Exits non-zero when a request was lost or got
 * mixed text, or an invariant broke.
 *
 * Options: --short (fewer, shorter requests), --only=<substring>[,…] (scenarios by name).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { connect } from "nats";
import { format, resolveConfig } from "prettier";
import { subjectSpace, type ContextName } from "../contracts/index.js";
import { mintKey } from "../adapters/auth/jwt-verifier.js";
import { ID_NAMESPACES, uuidV5 } from "../src/ids.js";
import { promptOf } from "./lib/answers.js";
import { freePort } from "./lib/free-port.js";
import {
  brokenInvariants,
  checkInvariants,
  deadLetteredIds,
  readStreams,
} from "./lib/invariants.js";
import type { LoadPlan, RequestReport } from "./lib/load-plan.js";
import { PrivateNats } from "./lib/private-nats.js";
import { PrivatePostgres } from "./lib/private-postgres.js";
import { Roles } from "./lib/roles.js";
import { markdownTable, type ScenarioFigures } from "./lib/table.js";
import { stallAt, verdictOf, type Verdict } from "./lib/verdict.js";
import { SCENARIOS, type Scenario } from "./scenarios.js";

const args = process.argv.slice(2);
const SHORT = args.includes("--short");
const ONLY = args
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");

/** The load: requests per scenario, their spacing, the answer's length and pace, the fault. */
const LOAD = SHORT
  ? { requests: 40, spacingMs: 50, chunks: 30, intervalMs: 50, faultAtMs: 1_200 }
  : { requests: 80, spacingMs: 40, chunks: 40, intervalMs: 50, faultAtMs: 2_000 };
const CLIENT_TIMEOUT_MS = 60_000;
const TENANT = "chaos";

const out = (line = "") => process.stdout.write(line + "\n");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TypeScript helper process of the suite (mocks, load client). */
function script(file: string, argv: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", path.join("chaos", file), ...argv], {
    stdio: ["pipe", "pipe", "inherit"],
  });
}

async function listeningPort(p: ChildProcess): Promise<number> {
  const [line] = (await once(p.stdout!, "data")) as [Buffer];
  return Number(/listening (\d+)/.exec(line.toString())?.[1]);
}

/** Lines a process prints as JSON, delivered one by one. */
function jsonLines(p: ChildProcess, onLine: (v: Record<string, unknown>) => void): void {
  let buf = "";
  p.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) onLine(JSON.parse(line) as Record<string, unknown>);
    }
  });
}

interface Suite {
  dir: string;
  postgres: PrivatePostgres;
  nats: PrivateNats;
  catalogFile: string;
  upstreamUrl: string;
  handlerBase: string;
  secret: string;
}

interface ScenarioResult {
  figures: ScenarioFigures;
  notes: string[];
}

/** Runs the load of `scenario` through the clients' process and injects its fault. */
async function runLoad(
  scenario: Scenario,
  plan: LoadPlan,
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
        }, LOAD.faultAtMs);
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

async function runScenario(
  suite: Suite,
  scenario: Scenario,
  index: number,
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
    LOG_LEVEL: "info",
  };
  mkdirSync(logDir, { recursive: true });
  const roles = new Roles(env, logDir);
  const subjects = subjectSpace(ns);
  try {
    await roles.migrate();
    await roles.startAll();
    const key = await mintKey(suite.secret, { tenant: TENANT, ttlSecs: 3600 });
    const plan: LoadPlan = {
      gateways: roles.gateways,
      key,
      timeoutMs: CLIENT_TIMEOUT_MS,
      maxResumes: 4,
      requests: Array.from({ length: LOAD.requests }, (_, i) => ({
        tag: `s${index}r${i}`,
        model: scenario.model(i),
        text: promptOf(
          `s${index}r${i}`,
          `${randomBytes(4).toString("hex")}${scenario.poison?.(i) ? " poison" : ""}`,
        ),
        idempotencyKey: `${ns}-${i}`,
        gateway: i % 2,
        atMs: i * LOAD.spacingMs,
      })),
    };
    const streamLeader = async (stream: "commands" | "events") => {
      const nc = await connect({ servers: nats.url.split(",") });
      try {
        const jsm = await nc.jetstreamManager();
        const name =
          stream === "commands" ? subjects.commandStream("sea") : subjects.eventStream("sea");
        return (await jsm.streams.info(name)).cluster?.leader ?? "n1";
      } finally {
        await nc.close();
      }
    };
    const tools = {
      roles,
      nats,
      postgres: suite.postgres,
      handlerBase: suite.handlerBase,
      streamLeader,
    };
    const { reports, faultAt, faultNote } = await runLoad(scenario, plan, () =>
      scenario.fault!(tools).catch((err: unknown) => `fault failed: ${String(err)}`),
    );
    const streams = await settled(urls, 30_000);
    const nc = await connect({ servers: nats.url.split(",") });
    const deadLetters = await deadLetteredIds(await nc.jetstreamManager(), subjects).finally(() =>
      nc.close(),
    );
    const handlerStats = (await (await fetch(`${suite.handlerBase}/stats`)).json()) as {
      answered: Record<string, number>;
    };
    const invariants = checkInvariants(streams, deadLetters, handlerStats.answered, LOAD.chunks);
    const verdicts: Record<Verdict, number> = {
      exact: 0,
      "clear-error": 0,
      "interrupted-unkept": 0,
      mixed: 0,
      lost: 0,
      unanswered: 0,
    };
    const errorCodes: Record<string, number> = {};
    const notes = faultNote ? [faultNote] : [];
    const examples: string[] = [];
    for (const [i, r] of reports.entries()) {
      const streamId =
        r.streamId ||
        uuidV5(`${TENANT}\n${plan.requests[i]!.idempotencyKey}`, ID_NAMESPACES.stream);
      const stored = streams.get(streamId)?.terminals[0];
      const v = verdictOf(r, stored, LOAD.chunks);
      verdicts[v.verdict]++;
      if (v.verdict === "clear-error") {
        const code = `${r.error?.status === 200 ? "event " : `${r.error?.status} `}${r.error?.code ?? "no code"}`;
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      }
      if (v.why && examples.length < 4)
        examples.push(`${r.tag} (${streamId}): ${v.verdict}: ${v.why}`);
    }
    // The raw reports, for reading a surprising figure afterwards.
    writeFileSync(path.join(logDir, "client-reports.json"), JSON.stringify({ faultAt, reports }));
    const resumes = reports.flatMap((r) => r.exchanges).filter((e) => e.kind !== "post").length;
    if (resumes > 0) notes.push(`${resumes} resumes or retried POSTs after broken connections`);
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
    await roles.stopAll();
    if (scenario.cluster) {
      await nats.stop();
      nats.removeStores();
    }
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "sea-chaos-"));
  out(`chaos suite (${SHORT ? "short" : "full"}): logs under ${dir}`);
  const postgres = await PrivatePostgres.start(dir, await freePort());
  const nats = await PrivateNats.start(path.join(dir, "nats"), 1);
  const upstream = script("sampling-upstream.ts", ["0"]);
  const handler = script("handler-service.ts", ["0", `${LOAD.chunks}:${LOAD.intervalMs}`]);
  const cleanup = () => {
    postgres.killNow();
    nats.killNow();
    upstream.kill("SIGKILL");
    handler.kill("SIGKILL");
  };
  process.once("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  try {
    const catalogFile = path.join(dir, "capabilities.yaml");
    const model = `sample:${LOAD.chunks}:${LOAD.intervalMs}`;
    writeFileSync(
      catalogFile,
      "capabilities:\n" +
        `  - {id: sample, context: sea, handler: openai, upstream_model: '${model}'}\n` +
        `  - {id: sample-vp, context: vibespro, handler: openai, upstream_model: '${model}'}\n` +
        "  - {id: svc, context: sea, handler: http}\n",
    );
    const suite: Suite = {
      dir,
      postgres,
      nats,
      catalogFile,
      upstreamUrl: `http://127.0.0.1:${await listeningPort(upstream)}/v1`,
      handlerBase: `http://127.0.0.1:${await listeningPort(handler)}`,
      secret: randomBytes(32).toString("hex"),
    };
    const chosen = SCENARIOS.filter((s) => !ONLY || ONLY.some((o) => s.name.includes(o)));
    const results: ScenarioResult[] = [];
    for (const [i, scenario] of chosen.entries()) {
      const t0 = Date.now();
      out(`\n▶ ${scenario.name}`);
      const r = await runScenario(suite, scenario, i);
      results.push(r);
      out(markdownTable([r.figures]).split("\n").at(-1)!);
      for (const n of r.notes) out(`  - ${n}`);
      out(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    const header =
      `Chaos suite (${SHORT ? "short" : "full"}), ${new Date().toISOString()}, node ${process.version}: ` +
      `${LOAD.requests} streaming requests per scenario (${LOAD.chunks} chunks ${LOAD.intervalMs} ms apart, ` +
      `one every ${LOAD.spacingMs} ms, alternating between the two gateways), the fault ${LOAD.faultAtMs} ms ` +
      "into the load; roles as separate processes (2 gateways, 1 relay, 2 workers per context) from dist/, " +
      "defaults (ACK_WAIT_SECS 4), on a private PostgreSQL and NATS.";
    const table = markdownTable(results.map((r) => r.figures));
    const notes = results.flatMap((r) => [
      `- **${r.figures.name}**`,
      ...r.notes.map((n) => `  - ${n}`),
    ]);
    const md = [header, "", table, "", "Notes:", "", ...notes, ""].join("\n");
    // Formatted as the repository's own files are (npm run check covers it).
    const file = path.join("chaos", "last-run.md");
    writeFileSync(file, await format(md, { ...(await resolveConfig(file)), parser: "markdown" }));
    out("\n" + table);
    const failed = results.some(
      (r) =>
        r.figures.invariants.length > 0 ||
        r.figures.verdicts.lost +
          r.figures.verdicts.mixed +
          r.figures.verdicts.unanswered +
          r.figures.verdicts["interrupted-unkept"] >
          0,
    );
    if (failed) process.exitCode = 1;
  } finally {
    upstream.kill("SIGTERM");
    handler.kill("SIGTERM");
    await nats.stop();
    await postgres.stop();
    // The logs stay for reading; the data of the private servers goes.
    rmSync(postgres.dataDir, { recursive: true, force: true });
    nats.removeStores();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos suite failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
