import type {
  ChatDeltaPayload,
  StoredChatCompletion,
  StreamStatus,
} from "../../../contracts/index.js";
import { AnswerAccumulator } from "../../answer-accumulator.js";
import type { Delivery, Terminal } from "./attempt-sequencer.js";
import type { RunIdentity } from "./run-identity.js";

/** A stream's status from what is known of it: its terminal event, a cancel, its deltas. */
export function statusOf(
  terminal: Terminal | null,
  cancelRequested: boolean,
  deltas: number,
): StreamStatus {
  if (terminal?.kind === "completed") return "completed";
  if (terminal?.kind === "failed") {
    return terminal.payload.error.code === "cancelled" ? "cancelled" : "failed";
  }
  if (cancelRequested) return "cancelled";
  return deltas > 0 ? "in_progress" : "queued";
}

/**
 * The stored-completion object (`GET /v1/chat/completions/{id}`): the whole answer once
 * completed, the answer so far otherwise (with null usage and finish reason), plus the status.
 */
export function storedCompletion(
  run: Pick<RunIdentity, "id" | "created" | "model" | "streamId" | "delivery">,
  deliveries: readonly Delivery[],
  cancelRequested: boolean,
): StoredChatCompletion {
  const deltas = deliveries.filter(
    (d): d is Extract<Delivery, { kind: "delta" }> => d.kind === "delta",
  );
  const terminal = (deliveries.find((d) => d.kind === "completed" || d.kind === "failed") ??
    null) as Terminal | null;
  const base = {
    id: run.id,
    object: "chat.completion" as const,
    created: run.created,
    model: run.model,
    status: statusOf(terminal, cancelRequested, deltas.length),
    stream_id: run.streamId,
    background: run.delivery.background === true,
  };
  if (terminal?.kind === "completed") {
    const p = terminal.payload;
    return {
      ...base,
      choices: [
        {
          index: 0,
          message: p.message,
          logprobs: p.logprobs ?? null,
          finish_reason: p.finish_reason,
        },
      ],
      usage: { ...p.usage },
      error: null,
    };
  }
  const answer = new AnswerAccumulator();
  for (const d of deltas) answer.add(d.payload);
  const { message, logprobs } = answer.complete(null);
  const failure = terminal?.kind === "failed" ? terminal.payload.error : null;
  return {
    ...base,
    choices: [{ index: 0, message, logprobs: logprobs ?? null, finish_reason: null }],
    usage: null,
    error: failure ? { message: failure.message, type: failure.type, code: failure.code } : null,
  };
}

/** A completed answer as one delta (to replay a stream whose stored deltas have expired). */
export function answerAsDelta(
  terminal: Extract<Delivery, { kind: "completed" }>,
): ChatDeltaPayload {
  const m = terminal.payload.message;
  const delta: ChatDeltaPayload = {};
  if (m.content) delta.content = m.content;
  if (m.reasoning_content) delta.reasoning_content = m.reasoning_content;
  if (m.tool_calls?.length) {
    delta.tool_calls = m.tool_calls.map((c, index) => ({ index, ...c }));
  }
  // An editor action's result rides along, so its replay holds its edits and diagnostics.
  if (terminal.payload.edits?.length) delta.edits = terminal.payload.edits;
  if (terminal.payload.diagnostics?.length) delta.diagnostics = terminal.payload.diagnostics;
  if (terminal.payload.logprobs) delta.logprobs = terminal.payload.logprobs;
  return delta;
}
