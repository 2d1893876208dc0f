/**
 * What an outbox row costs Postgres to write and mark published, before and after migration 007
 * (`outbox_unpublished`): Postgres CPU of the one backend doing it (`/proc`) and WAL bytes
 * (`pg_current_wal_lsn`), per row, in batches of `BENCH_OUTBOX_BATCH` (5: about what a burst
 * batches per statement). "Before" is version 6's insert and mark, as they were; "after" is the
 * product's own `insertOutbox` and `markOutboxPublished` on a database migrated to the latest
 * version. The two are interleaved `BENCH_REPEATS` (3) times, on databases of their own.
 *
 * WAL bytes per row are deterministic for a given Postgres and payload; CPU spreads with the
 * machine (and grows with the table: the before layout leaves a dead copy per mark).
 */
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import pg from "pg";
import { loadMigrations, migrate } from "../adapters/postgres/migrator.js";
import {
  insertOutbox,
  markOutboxPublished,
  outboxColumns,
} from "../adapters/postgres/outbox-sql.js";
import { createPool } from "../adapters/postgres/pool.js";
import type { OutboxMessage } from "../src/ports.js";
import { PG } from "./lib/world.js";
import pino from "pino";

const BATCHES = Number(process.env.BENCH_OUTBOX_BATCHES ?? 3000);
const PER = Number(process.env.BENCH_OUTBOX_BATCH ?? 5);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const OUT = process.env.BENCH_OUTBOX_OUT ?? "bench/last-outbox-rows.md";
const log = pino({ level: "warn" });

// Version 6's statements (adapters/postgres/outbox-sql.ts before migration 007).
const V6_INSERT = `INSERT INTO outbox_events
   (id, aggregate_type, aggregate_id, event_type, event_version, subject, tenant_id, payload,
    occurred_at, trace_id, correlation_id, causation_id, next_attempt_at)
 SELECT *, now() + $13 * interval '1 millisecond'
   FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[],
               $7::text[], $8::jsonb[], $9::timestamptz[], $10::text[], $11::text[],
               $12::text[])
 ON CONFLICT (id) DO NOTHING
 RETURNING id`;
const V6_MARK = `UPDATE outbox_events
    SET published_at = now(), publish_attempts = publish_attempts + 1, publish_error = NULL
  WHERE id = ANY($1::uuid[]) AND published_at IS NULL`;

/** A chat command about the size the gateway writes (an 800-character prompt). */
function command(): OutboxMessage {
  const id = randomUUID();
  return {
    subject: "sea.command.chat_completion.v1",
    aggregateType: "chat_stream",
    aggregateId: id,
    envelope: {
      event_id: id,
      event_type: "chat_completion",
      event_version: 1,
      tenant_id: "bench",
      correlation_id: randomUUID(),
      causation_id: null,
      occurred_at: new Date().toISOString(),
      payload: {
        stream_id: id,
        model: "burst",
        stream: true,
        messages: [{ role: "user", content: "x".repeat(800) }],
      },
    },
  };
}

function dbUrl(name: string): string {
  const u = new URL(PG);
  u.pathname = `/${name}`;
  return u.toString();
}

interface Cost {
  cpuUs: number;
  walBytes: number;
}

/** Runs `write` then `mark` per batch on one connection; its backend's CPU and the WAL, per row. */
async function measure(
  pool: pg.Pool,
  write: (db: pg.Pool, ms: OutboxMessage[]) => Promise<unknown>,
  mark: (db: pg.Pool, ids: string[]) => Promise<unknown>,
): Promise<Cost> {
  const pid = (await pool.query<{ p: number }>("SELECT pg_backend_pid() AS p")).rows[0]!.p;
  const cpuMs = () => {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  };
  const lsn = async () =>
    (await pool.query<{ l: string }>("SELECT pg_current_wal_lsn()::text AS l")).rows[0]!.l;
  const from = await lsn();
  const c0 = cpuMs();
  for (let b = 0; b < BATCHES; b++) {
    const ms = Array.from({ length: PER }, command);
    await write(pool, ms);
    await mark(
      pool,
      ms.map((m) => m.envelope.event_id),
    );
  }
  const c1 = cpuMs();
  const wal = await pool.query<{ d: string }>(
    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS d",
    [from],
  );
  const rows = BATCHES * PER;
  return { cpuUs: ((c1 - c0) * 1000) / rows, walBytes: Number(wal.rows[0]!.d) / rows };
}

async function main(): Promise<void> {
  const all = await loadMigrations();
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  const names = { before: `bench_outbox_v6_${process.pid}`, after: `bench_outbox_${process.pid}` };
  const results: { before: Cost; after: Cost }[] = [];
  try {
    for (const name of Object.values(names)) await admin.query(`CREATE DATABASE ${name}`);
    await migrate(
      dbUrl(names.before),
      log,
      all.filter((m) => m.version <= 6),
    );
    await migrate(dbUrl(names.after), log);
    // One connection each: the CPU read is that backend's.
    const before = createPool(dbUrl(names.before), { max: 1 });
    const after = createPool(dbUrl(names.after), { max: 1 });
    try {
      for (let r = 0; r < REPEATS; r++) {
        const b = await measure(
          before,
          (db, ms) =>
            db.query({ name: "v6-insert", text: V6_INSERT, values: [...outboxColumns(ms), 0] }),
          (db, ids) => db.query({ name: "v6-mark", text: V6_MARK, values: [ids] }),
        );
        const a = await measure(after, (db, ms) => insertOutbox(db, ms, 0), markOutboxPublished);
        results.push({ before: b, after: a });
        process.stderr.write(
          `run ${r + 1}: before ${b.cpuUs.toFixed(1)} µs ${b.walBytes.toFixed(0)} B, after ${a.cpuUs.toFixed(1)} µs ${a.walBytes.toFixed(0)} B per row\n`,
        );
      }
    } finally {
      await Promise.all([before.end(), after.end()]);
    }
  } finally {
    for (const name of Object.values(names))
      await admin.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
    await admin.end();
  }
  const lines = [
    `# Outbox row: write and mark published, before and after migration 007, ${new Date().toISOString()}`,
    "",
    `${BATCHES} batches of ${PER} rows per run, ${REPEATS} runs interleaved, one connection each; Postgres CPU of that backend (/proc), WAL from pg_current_wal_lsn.`,
    "",
    "| run | before: µs CPU per row | after | after / before | before: WAL bytes per row | after | after / before |",
    "|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map(
      (x, i) =>
        `| ${i + 1} | ${x.before.cpuUs.toFixed(1)} | ${x.after.cpuUs.toFixed(1)} | ${(x.after.cpuUs / x.before.cpuUs).toFixed(2)} | ${x.before.walBytes.toFixed(0)} | ${x.after.walBytes.toFixed(0)} | ${(x.after.walBytes / x.before.walBytes).toFixed(2)} |`,
    ),
    "",
  ];
  writeFileSync(OUT, lines.join("\n"));
  process.stdout.write(lines.join("\n"));
}

await main();
