import type { JetStreamManager } from "nats";
import pg from "pg";
import {
  CHAT_COMMAND,
  CONTEXTS,
  type ContextName,
  type SubjectSpace,
} from "../../contracts/index.js";
import { isWholeAnswer, tagOf } from "./answers.js";
import type { StoredTerminal } from "./verdict.js";

/** What the context databases hold for one stream. */
export interface StoredStream {
  context: ContextName;
  streamId: string;
  /** Outbox ids of its chat commands (one, unless a retry wrote a second). */
  commandIds: string[];
  /** Its request was built to be refused as poison (its prompt says `poison`). */
  poison: boolean;
  tag: string | undefined;
  terminals: StoredTerminal[];
  /** The inbox row of its command: processed, and how many attempts claimed it. */
  processed: boolean;
  claims: number;
}

interface CommandRow {
  stream_id: string;
  command_id: string;
  prompt: string | null;
  processed: boolean | null;
  claims: number | null;
}

/** Every chat stream of both contexts, with its commands, terminal events and inbox rows. */
export async function readStreams(
  urls: Record<ContextName, string>,
): Promise<Map<string, StoredStream>> {
  const out = new Map<string, StoredStream>();
  for (const context of CONTEXTS) {
    const c = new pg.Client({ connectionString: urls[context] });
    await c.connect();
    try {
      const commands = await c.query<CommandRow>(
        `SELECT o.aggregate_id AS stream_id, o.id::text AS command_id,
                o.payload #>> '{payload,messages,-1,content}' AS prompt,
                i.processed_at IS NOT NULL AS processed, i.process_attempts AS claims
           FROM outbox_events o LEFT JOIN inbox_messages i ON i.message_id = o.id::text
          WHERE o.event_type = $1`,
        [CHAT_COMMAND.name],
      );
      for (const row of commands.rows) {
        const s = out.get(row.stream_id) ?? {
          context,
          streamId: row.stream_id,
          commandIds: [],
          poison: (row.prompt ?? "").includes("poison"),
          tag: tagOf(row.prompt ?? ""),
          terminals: [],
          processed: row.processed === true,
          claims: row.claims ?? 0,
        };
        s.commandIds.push(row.command_id);
        out.set(row.stream_id, s);
      }
      const terminals = await c.query<{
        stream_id: string;
        event_type: string;
        payload: Record<string, never>;
      }>(
        `SELECT aggregate_id AS stream_id, event_type, payload FROM outbox_events
          WHERE event_type IN ('chat_completed', 'chat_failed') ORDER BY occurred_at`,
      );
      for (const row of terminals.rows) {
        const inner = (row.payload as { payload?: Record<string, unknown> }).payload ?? {};
        const t: StoredTerminal =
          row.event_type === "chat_completed"
            ? {
                kind: "completed",
                content: String((inner.message as { content?: string } | undefined)?.content ?? ""),
              }
            : {
                kind: "failed",
                code: (inner.error as { code?: string | null } | undefined)?.code ?? null,
              };
        out.get(row.stream_id)?.terminals.push(t);
      }
    } finally {
      await c.end();
    }
  }
  return out;
}

/** The command ids the context's dead-letter stream holds. */
export async function deadLetteredIds(
  jsm: JetStreamManager,
  subjects: SubjectSpace,
): Promise<string[]> {
  const ids: string[] = [];
  for (const ctx of CONTEXTS) {
    const name = subjects.dlqStream(ctx);
    const info = await jsm.streams.info(name);
    for (
      let seq = info.state.first_seq;
      seq <= info.state.last_seq && info.state.messages > 0;
      seq++
    ) {
      const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
      if (!m) continue;
      const body = JSON.parse(new TextDecoder().decode(m.data)) as { message_id?: string | null };
      ids.push(String(body.message_id));
    }
  }
  return ids;
}

/** The invariants the suite checks in the databases, each with the streams that break it. */
export interface InvariantReport {
  /** Accepted commands whose number of terminal events is not exactly one. */
  terminalNotOne: string[];
  /** Streams with more than one command (a retry that wrote a second one). */
  commandTwice: string[];
  /** Commands whose inbox row is not processed (after the suite waited for them). */
  unprocessed: string[];
  /** Messages a side-effecting handler answered in full more than once. */
  processedTwice: string[];
  /** Dead letters that are not poison, and poison that is not dead-lettered. */
  dlqExtra: string[];
  dlqMissing: string[];
  /** Stored answers that are not one whole answer. */
  storedMixed: string[];
}

export function checkInvariants(
  streams: Map<string, StoredStream>,
  deadLetters: string[],
  handlerAnswered: Record<string, number>,
  chunks: number,
): InvariantReport {
  const all = [...streams.values()];
  const poisonIds = new Set(all.filter((s) => s.poison).flatMap((s) => s.commandIds));
  const dlq = new Set(deadLetters);
  return {
    terminalNotOne: all.filter((s) => s.terminals.length !== 1).map((s) => s.streamId),
    commandTwice: all.filter((s) => s.commandIds.length > 1).map((s) => s.streamId),
    unprocessed: all.filter((s) => !s.processed).map((s) => s.streamId),
    processedTwice: Object.entries(handlerAnswered)
      .filter(([, n]) => n > 1)
      .map(([id]) => id),
    dlqExtra: [...dlq].filter((id) => !poisonIds.has(id)),
    dlqMissing: [...poisonIds].filter((id) => !dlq.has(id)),
    storedMixed: all
      .filter((s) => s.tag !== undefined)
      .filter((s) =>
        s.terminals.some(
          (t) => t.kind === "completed" && !isWholeAnswer(s.tag!, t.content, chunks),
        ),
      )
      .map((s) => s.streamId),
  };
}

/** The broken invariants, one short line each (empty: all hold). */
export function brokenInvariants(r: InvariantReport): string[] {
  const line = (what: string, ids: string[]) =>
    ids.length > 0
      ? [`${what}: ${ids.length} (${ids.slice(0, 3).join(", ")}${ids.length > 3 ? ", …" : ""})`]
      : [];
  return [
    ...line("terminal events ≠ 1", r.terminalNotOne),
    ...line("two commands for one stream", r.commandTwice),
    ...line("inbox row not processed", r.unprocessed),
    ...line("handler side effects twice", r.processedTwice),
    ...line("dead letter not poison", r.dlqExtra),
    ...line("poison not dead-lettered", r.dlqMissing),
    ...line("stored answer not one attempt", r.storedMixed),
  ];
}
