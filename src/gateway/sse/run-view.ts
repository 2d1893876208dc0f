import type { ServerResponse } from "node:http";
import type { RunReader } from "../runs/run-reader.js";
import type { SseOptions } from "./run-sse.js";

/**
 * How a surface presents a run over HTTP: as SSE, or collected into one JSON body. A view only
 * translates the run's deliveries; the run's life-cycle is the run's own.
 */
export interface RunView {
  stream(reader: RunReader, res: ServerResponse, opts: SseOptions): Promise<void>;
  collect(reader: RunReader): Promise<unknown>;
  /** The error event written when the stream breaks after its first byte. */
  streamError(err: unknown): string;
}
