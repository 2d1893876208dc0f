/**
 * The chaos suite (`npm run chaos`; `npm run chaos:short` for CI): the roles as separate
 * processes (two gateways, a relay, two workers per context) on a PostgreSQL and a NATS of its
 * own (never the machine's shared ones), a bounded streaming load per scenario, a fault
 * injected mid-load, then what the clients saw and what the databases hold. Prints the table as
 * markdown and writes it to chaos/last-run.md (chaos/last-run-short.md for --short; nothing for
 * --only). Exits non-zero when a request was lost or got mixed text, or an invariant broke.
 *
 * Options: --short (fewer, shorter requests), --only=<substring>[,…] (scenarios by name).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { format, resolveConfig } from "prettier";
import { freePort } from "./lib/free-port.js";
import { listeningPort, script } from "./lib/helper-processes.js";
import { PrivateNats } from "./lib/private-nats.js";
import { PrivatePostgres } from "./lib/private-postgres.js";
import { markdownTable } from "./lib/table.js";
import { runScenario, type LoadShape, type ScenarioResult, type Suite } from "./scenario-run.js";
import { SCENARIOS } from "./scenarios.js";

const args = process.argv.slice(2);
const SHORT = args.includes("--short");
const ONLY = args
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");

const LOAD: LoadShape = SHORT
  ? { requests: 40, spacingMs: 50, chunks: 30, intervalMs: 50, faultAtMs: 1_200 }
  : { requests: 80, spacingMs: 40, chunks: 40, intervalMs: 50, faultAtMs: 2_000 };

const out = (line = "") => process.stdout.write(line + "\n");

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
      const r = await runScenario(suite, scenario, i, LOAD);
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
    // A whole run is recorded (the short one apart); a run of some scenarios is only printed.
    // Formatted as the repository's own files are (npm run check covers them).
    if (!ONLY) {
      const file = path.join("chaos", SHORT ? "last-run-short.md" : "last-run.md");
      writeFileSync(file, await format(md, { ...(await resolveConfig(file)), parser: "markdown" }));
    }
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
