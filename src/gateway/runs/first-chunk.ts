import { metrics, type Surface } from "../../observability/metrics.js";
import type { Delivery } from "./attempt-sequencer.js";

/**
 * Records a surface's time to first chunk, once: at the first batch that carries one (a reset
 * carries none). Without a start time (a subscription to an existing stream) it records nothing.
 */
export function firstChunkTimer(
  surface: Surface,
  startedAt: number | undefined,
): (batch: readonly Delivery[]) => void {
  let waiting = startedAt !== undefined;
  return (batch) => {
    if (!waiting || !batch.some((d) => d.kind !== "reset")) return;
    waiting = false;
    metrics.firstChunk(surface, performance.now() - startedAt!);
  };
}
