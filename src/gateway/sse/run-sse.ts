import type { ServerResponse } from "node:http";
import {
  CapabilityFailedError,
  GatewayStoppingError,
  StreamInterruptedError,
} from "../../errors.js";
import type { Delivery } from "../runs/attempt-sequencer.js";
import { KeepAlive } from "../http/raw-stream.js";
import type { RunReader } from "../runs/run-reader.js";

/** How a streamed response is opened, kept alive and written. */
export interface SseOptions {
  /** Idle interval after which a `: keep-alive` comment is sent. */
  keepAliveMs: number;
  /**
   * Takes the response over from the framework and writes its status line and headers; called
   * once, before the first byte (see `openSse`).
   */
  open(): void;
  /** The reader resumes after chunks the client already holds. */
  resumed: boolean;
  /** The status line and headers are out already (the request waited with keep-alives). */
  headersSent?: boolean;
  /** Shown every batch before it is written: times the first chunk (see `firstChunkTimer`). */
  firstChunk?: (batch: readonly Delivery[]) => void;
}

/**
 * How one surface writes a run's deliveries as SSE text (OpenAI chunks, editor action events).
 * Each delta's events carry `id: <seq>`, the resume cursor.
 */
export interface SseFormat {
  /** What the stream starts with, once the status line is out (may be empty). */
  opening(): string;
  delta(d: Extract<Delivery, { kind: "delta" }>): string;
  /** The last events of a completed run, including the stream's end marker. */
  completed(d: Extract<Delivery, { kind: "completed" }>): string;
  /** An error event after the stream started (a failed run, an interruption). */
  error(err: unknown): string;
}

/** Writes respecting backpressure; resolves false if the client has gone. */
export async function writeSse(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (!res.write(text) && !res.destroyed) await drainedOrClosed(res);
  return !res.destroyed;
}

/**
 * Waits for `drain` or `close`, removing both listeners either way: a long stream waits many
 * times, and listeners left behind by each wait would pile up until the response closed.
 */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Streams a run's deliveries in `format`.
 *
 * The status line waits for the first event (or the first keep-alive), so a failure before any
 * output is a real HTTP error (429 with `retry-after`, 502…) that SDKs raise as typed errors:
 * this function then throws without having written anything. A failure after that becomes the
 * format's error event and a clean close; so does an answer that changed attempt after some of it
 * was sent (never a mix of two attempts), and a gateway that is stopping (the client resumes
 * elsewhere). Events that arrived together are written together. Returns when the stream is
 * finished or the client has left.
 */
export async function streamRun(
  reader: RunReader,
  res: ServerResponse,
  opts: SseOptions,
  format: SseFormat,
): Promise<void> {
  const run = reader.run;
  let started = false;
  let holdsContent = opts.resumed;
  const open = (): string => {
    if (started) return "";
    started = true;
    if (!opts.headersSent) opts.open();
    return format.opening();
  };
  const fail = (err: unknown) => {
    if (!started && !opts.headersSent) throw err;
    if (!res.destroyed) res.end(format.error(err));
  };
  const keepAlive = new KeepAlive(res, opts.keepAliveMs, open);
  try {
    for (;;) {
      const batch = await reader.next();
      if (batch === null) return fail(new GatewayStoppingError(run.streamId));
      const first = batch[0];
      if (!started && first?.kind === "failed") throw CapabilityFailedError.from(first.payload);
      let out = open();
      opts.firstChunk?.(batch);
      for (const d of batch) {
        if (d.kind === "reset") {
          if (holdsContent) {
            if (out) res.write(out);
            // The error tells the client to read the complete answer later: it must exist.
            run.keepToEnd();
            return fail(new StreamInterruptedError(run.streamId));
          }
          continue;
        }
        if (d.kind === "delta") {
          out += format.delta(d);
          holdsContent = true;
          continue;
        }
        out +=
          d.kind === "completed"
            ? format.completed(d)
            : format.error(CapabilityFailedError.from(d.payload));
        // The last data rides with the end of the response: one write fewer.
        if (!res.destroyed) res.end(out);
        return;
      }
      keepAlive.touch();
      if (!(await writeSse(res, out))) return;
    }
  } catch (err) {
    fail(err);
  } finally {
    keepAlive.stop();
  }
}
