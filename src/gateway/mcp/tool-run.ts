import type { EditorActionResult } from "../../../contracts/index.js";
import { firstChunkTimer } from "../runs/first-chunk.js";
import { CapabilityFailedError, GatewayStoppingError } from "../../errors.js";
import type { Log } from "../../log.js";
import { metrics } from "../../observability/metrics.js";
import { ActionResultBuilder } from "../editor/action-result.js";
import type { ChatRun } from "../runs/chat-run.js";

/** What a tool call offers the run it follows (a slice of the SDK's request extra). */
export interface ToolCall {
  /** Aborted when the client cancels the call (`notifications/cancelled`, closing). */
  signal: AbortSignal;
  /** Sends a progress notification when the client asked for them (a `progressToken`). */
  progress(progress: number, message: string): Promise<void>;
  /** When the tool call arrived (`performance.now()`), for its time to first chunk. */
  startedAt: number;
}

/**
 * Follows a run for one MCP tool call: a progress notification per batch of deltas (the count of
 * deltas so far and their text), the whole result at the end. A client cancellation cancels the
 * run's command at once (no grace: the client said so) and leaves the run.
 */
export async function followRun(
  run: ChatRun,
  call: ToolCall,
  log: Log,
): Promise<EditorActionResult> {
  const reader = run.read();
  const onCancel = () => {
    // Cancelled (with the client's reason) before the reader leaves, so leaving adds nothing.
    run
      .cancel("mcp_client", log)
      .catch((err: unknown) => log.warn({ err, stream_id: run.streamId }, "MCP cancel failed"));
    reader.leave();
  };
  if (call.signal.aborted) onCancel();
  else call.signal.addEventListener("abort", onCancel, { once: true });
  const result = new ActionResultBuilder();
  let deltas = 0;
  const streamClosed = metrics.streamOpened("mcp");
  const firstChunk = firstChunkTimer("mcp", call.startedAt);
  try {
    for (let batch = await reader.next(); batch; batch = await reader.next()) {
      firstChunk(batch);
      let text = "";
      for (const d of batch) {
        if (d.kind === "reset") {
          result.reset();
        } else if (d.kind === "delta") {
          result.add(d.payload);
          text += d.payload.content ?? "";
          deltas++;
        } else if (d.kind === "completed") {
          return result.complete(d.payload);
        } else throw CapabilityFailedError.from(d.payload);
      }
      if (text) await call.progress(deltas, text);
    }
    throw new GatewayStoppingError(run.streamId);
  } finally {
    streamClosed();
    call.signal.removeEventListener("abort", onCancel);
    reader.leave();
  }
}
