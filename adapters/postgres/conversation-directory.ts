import type pg from "pg";
import {
  CHAT_CANCEL_COMMAND,
  CONTEXTS,
  EDITOR_ACTION_COMMAND,
  RESULT_EVENT_TYPES,
  type ChatMessage,
  type ContextName,
  type ConversationRunRequest,
  type EditorActionInput,
} from "../../contracts/index.js";
import { decodeResultEvents } from "../../src/gateway/runs/result-decoder.js";
import type {
  ConversationDirectory,
  ConversationRecord,
  ConversationRunRecord,
} from "../../src/ports.js";

const CONVERSATION = `(payload -> 'payload' ->> 'conversation_id')`;
const OUTCOME_TYPES = [
  RESULT_EVENT_TYPES.completed,
  RESULT_EVENT_TYPES.failed,
  CHAT_CANCEL_COMMAND.name,
];
const encoder = new TextEncoder();

interface CommandRow {
  stream_id: string;
  event_type: string;
  model: string | null;
  occurred_at: Date;
  /** A chat's last message; an action's name and input (nothing else of the payload). */
  last_message: ChatMessage | null;
  action: string | null;
  input: EditorActionInput | null;
}

interface OutcomeRow {
  stream_id: string;
  event_type: string;
  payload: unknown;
}

interface ListRow {
  id: string;
  created: Date;
  updated: Date;
  runs: number;
  title: string | null;
  instructions: string | null;
}

/**
 * Conversations from the outbox rows of both contexts (a conversation may span them: a chat on
 * `sea`, a test generation on `vibespro`), for the caller's tenant only. Reads only columns the
 * gateway's role may select, through the conversation index (migration 006).
 */
export class PgConversationDirectory implements ConversationDirectory {
  constructor(private readonly pools: Record<ContextName, pg.Pool>) {}

  async runs(tenant: string, conversationId: string, limit: number) {
    const perContext = await Promise.all(
      CONTEXTS.map((c) => this.contextRuns(c, tenant, conversationId, limit)),
    );
    return perContext
      .flat()
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .slice(0, limit);
  }

  async list(tenant: string, opts: { limit: number; before?: Date }) {
    const perContext = await Promise.all(
      CONTEXTS.map((c) =>
        this.pools[c].query<ListRow>(LIST_SQL, [tenant, opts.before ?? null, opts.limit]),
      ),
    );
    const byId = new Map<string, ConversationRecord>();
    for (const r of perContext.flatMap((p) => p.rows)) {
      const seen = byId.get(r.id);
      if (!seen) {
        byId.set(r.id, {
          id: r.id,
          createdAt: r.created,
          updatedAt: r.updated,
          runs: r.runs,
          title: r.title,
          instructions: r.instructions,
        });
        continue;
      }
      // The same conversation in both contexts: its span is theirs together, its name the first's.
      const firstHere = r.created < seen.createdAt;
      byId.set(r.id, {
        id: r.id,
        createdAt: firstHere ? r.created : seen.createdAt,
        updatedAt: r.updated > seen.updatedAt ? r.updated : seen.updatedAt,
        runs: seen.runs + r.runs,
        title: firstHere ? r.title : seen.title,
        instructions: (firstHere ? r.instructions : seen.instructions) ?? null,
      });
    }
    return [...byId.values()]
      .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime())
      .slice(0, opts.limit);
  }

  private async contextRuns(
    context: ContextName,
    tenant: string,
    conversationId: string,
    limit: number,
  ): Promise<ConversationRunRecord[]> {
    const pool = this.pools[context];
    const commands = await pool.query<CommandRow>(RUNS_SQL, [tenant, conversationId, limit]);
    if (commands.rows.length === 0) return [];
    const outcomes = await pool.query<OutcomeRow>(
      `SELECT aggregate_id AS stream_id, event_type, payload
         FROM outbox_events
        WHERE aggregate_type = 'chat_stream' AND aggregate_id = ANY($1) AND tenant_id = $2
          AND event_type = ANY($3)`,
      [commands.rows.map((r) => r.stream_id), tenant, OUTCOME_TYPES],
    );
    return commands.rows.flatMap((row) => {
      const request = requestOf(row);
      if (!request || !row.model) return [];
      const mine = outcomes.rows.filter((o) => o.stream_id === row.stream_id);
      return [
        {
          streamId: row.stream_id,
          model: row.model,
          createdAt: row.occurred_at,
          request,
          cancelRequested: mine.some((o) => o.event_type === CHAT_CANCEL_COMMAND.name),
          terminal: terminalOf(mine),
        },
      ];
    });
  }
}

const RUNS_SQL = `
  SELECT aggregate_id AS stream_id, event_type, occurred_at,
         payload -> 'payload' ->> 'model' AS model,
         payload -> 'payload' -> 'messages' -> -1 AS last_message,
         payload -> 'payload' ->> 'action' AS action,
         payload -> 'payload' -> 'input' AS input
    FROM outbox_events
   WHERE tenant_id = $1 AND ${CONVERSATION} = $2 AND aggregate_type = 'chat_stream'
   ORDER BY occurred_at, id
   LIMIT $3`;

// One row per conversation: its span and size, and from its first command what names it (the
// start of a chat's last message or an action's instruction; a chat's leading system message).
const LIST_SQL = `
  WITH rows AS (
    SELECT ${CONVERSATION} AS id, occurred_at, payload -> 'payload' AS p
      FROM outbox_events
     WHERE tenant_id = $1 AND ${CONVERSATION} IS NOT NULL AND aggregate_type = 'chat_stream'
  ), spans AS (
    SELECT id, min(occurred_at) AS created, max(occurred_at) AS updated, count(*)::int AS runs
      FROM rows GROUP BY id
  ), firsts AS (
    SELECT DISTINCT ON (id) id, p FROM rows ORDER BY id, occurred_at
  )
  SELECT s.id, s.created, s.updated, s.runs,
         CASE
           WHEN f.p ? 'action' THEN left(f.p ->> 'action' || ' ' || coalesce(f.p -> 'input' ->> 'instruction', ''), 200)
           WHEN jsonb_typeof(f.p -> 'messages' -> -1 -> 'content') = 'string'
             THEN left(f.p -> 'messages' -> -1 ->> 'content', 200)
           ELSE left(f.p -> 'messages' -> -1 -> 'content' -> 0 ->> 'text', 200)
         END AS title,
         CASE
           WHEN f.p -> 'messages' -> 0 ->> 'role' = 'system'
                AND jsonb_typeof(f.p -> 'messages' -> 0 -> 'content') = 'string'
             THEN left(f.p -> 'messages' -> 0 ->> 'content', 1000)
         END AS instructions
    FROM spans s JOIN firsts f USING (id)
   WHERE $2::timestamptz IS NULL OR s.updated < $2
   ORDER BY s.updated DESC
   LIMIT $3`;

function requestOf(row: CommandRow): ConversationRunRequest | null {
  if (row.event_type === EDITOR_ACTION_COMMAND.name) {
    return row.action && row.input
      ? { kind: "action", action: row.action, input: row.input }
      : null;
  }
  return row.last_message ? { kind: "chat", message: row.last_message } : null;
}

function terminalOf(rows: OutcomeRow[]): ConversationRunRecord["terminal"] {
  const row = rows.find((r) => r.event_type !== CHAT_CANCEL_COMMAND.name);
  if (!row) return null;
  const event = decodeResultEvents(encoder.encode(JSON.stringify(row.payload)))?.[0];
  return event && event.kind !== "delta" ? event : null;
}
