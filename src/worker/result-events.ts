import { randomUUID } from "node:crypto";
import {
  CHAT_RESULT_EVENT,
  RESULT_EVENT_TYPES,
  type ChatCompletedPayload,
  type ChatDeltaPayload,
  type ChatDeltasPayload,
  type ChatFailedPayload,
  type Envelope,
} from "../../contracts/index.js";

/** Identity shared by every result event of one command delivery. */
export interface ResultOrigin {
  tenant: string;
  streamId: string;
  correlationId: string;
  /** The command's event id. */
  causationId: string;
  attempt: number;
}

type ResultKind = keyof typeof RESULT_EVENT_TYPES;
type PayloadOf<K extends ResultKind> = K extends "delta"
  ? ChatDeltaPayload
  : K extends "deltas"
    ? ChatDeltasPayload
    : K extends "completed"
      ? ChatCompletedPayload
      : ChatFailedPayload;

/** Builds a result event envelope. */
export function resultEnvelope<K extends ResultKind>(
  origin: ResultOrigin,
  kind: K,
  seq: number,
  payload: PayloadOf<K>,
): Envelope<PayloadOf<K>> {
  return {
    event_id: randomUUID(),
    event_type: RESULT_EVENT_TYPES[kind],
    event_version: CHAT_RESULT_EVENT.version,
    tenant_id: origin.tenant,
    correlation_id: origin.correlationId,
    causation_id: origin.causationId,
    occurred_at: new Date().toISOString(),
    payload,
    stream_id: origin.streamId,
    seq,
    attempt: origin.attempt,
  };
}
