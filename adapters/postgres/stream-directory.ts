import type pg from "pg";
import {
  CHAT_CANCEL_COMMAND,
  CONTEXTS,
  ChatDeliverySchema,
  RESPONSE_DELETED_EVENT,
  RESULT_EVENT_TYPES,
  type ContextName,
} from "../../contracts/index.js";
import { decodeResultEvents } from "../../src/gateway/runs/result-decoder.js";
import type { StreamDirectory, StreamRecord } from "../../src/ports.js";

interface Row {
  event_type: string;
  payload: {
    event_id?: string;
    correlation_id?: string;
    payload?: { model?: unknown; delivery?: unknown };
  };
  occurred_at: Date;
}

const TERMINAL_TYPES = new Set<string>([RESULT_EVENT_TYPES.completed, RESULT_EVENT_TYPES.failed]);
/** Rows of a stream that are not its command. */
const NOT_THE_COMMAND = new Set<string>([
  ...TERMINAL_TYPES,
  CHAT_CANCEL_COMMAND.name,
  RESPONSE_DELETED_EVENT.name,
]);
const encoder = new TextEncoder();

/**
 * Finds a chat stream by its rows in the owning context's outbox (its command, a cancel, its
 * terminal event), for the caller's tenant only: another tenant's stream is simply not found.
 * The outbox keeps them beyond the event stream's retention.
 */
export class PgStreamDirectory implements StreamDirectory {
  constructor(private readonly pools: Record<ContextName, pg.Pool>) {}

  async find(tenant: string, streamId: string): Promise<StreamRecord | null> {
    const found = await Promise.all(
      CONTEXTS.map(async (context) => {
        const r = await this.pools[context].query<Row>(
          `SELECT event_type, payload, occurred_at
             FROM outbox_events
            WHERE aggregate_type = 'chat_stream' AND aggregate_id = $1 AND tenant_id = $2
            ORDER BY occurred_at`,
          [streamId, tenant],
        );
        return recordOf(context, r.rows);
      }),
    );
    return found.find((f) => f !== null) ?? null;
  }
}

function recordOf(context: ContextName, rows: Row[]): StreamRecord | null {
  const command = rows.find((r) => !NOT_THE_COMMAND.has(r.event_type));
  const model = command?.payload.payload?.model;
  if (!command || typeof model !== "string") return null;
  const terminalRow = rows.find((r) => TERMINAL_TYPES.has(r.event_type));
  const terminal = terminalRow
    ? (decodeResultEvents(encoder.encode(JSON.stringify(terminalRow.payload)))?.[0] ?? null)
    : null;
  const delivery = ChatDeliverySchema.safeParse(command.payload.payload?.delivery ?? {});
  return {
    context,
    model,
    createdAt: command.occurred_at,
    commandId: command.payload.event_id ?? "",
    correlationId: command.payload.correlation_id ?? "",
    delivery: delivery.success ? delivery.data : {},
    cancelRequested: rows.some((r) => r.event_type === CHAT_CANCEL_COMMAND.name),
    deleted: rows.some((r) => r.event_type === RESPONSE_DELETED_EVENT.name),
    terminal: terminal && terminal.kind !== "delta" ? terminal : null,
  };
}
