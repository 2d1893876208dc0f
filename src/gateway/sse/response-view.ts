import type { ServerResponse } from "node:http";
import type { ResponseObject } from "../../../contracts/index.js";
import {
  CapabilityFailedError,
  GatewayStoppingError,
  StreamInterruptedError,
  toOpenAIError,
} from "../../errors.js";
import { KeepAlive } from "../http/raw-stream.js";
import { ResponseEventRenderer, responseObjectOf } from "../responses/event-renderer.js";
import type { ResponseContext } from "../responses/response-object.js";
import { responseEventsSse } from "../responses/sse.js";
import { endedAt, renderInputs } from "../responses/stored-responses.js";
import type { Delivery } from "../runs/attempt-sequencer.js";
import type { RunReader } from "../runs/run-reader.js";
import { writeSse } from "./run-sse.js";

/** How a response's stream is opened and read. */
export interface ResponseStreamOptions {
  ctx: ResponseContext;
  /** The client holds the events numbered up to this (a resume); they are not sent again. */
  startingAfter?: number;
  keepAliveMs: number;
  /** Takes the response over and writes its status line (see `openSse`). */
  open(): void;
  /** Shown every batch before it is rendered (times the first chunk). */
  firstChunk?: (batch: readonly Delivery[]) => void;
}

/** A reason outside the run that ends its stream, as `response.failed` carries it. */
function failureOf(err: unknown): { code: string; message: string } {
  const { error } = toOpenAIError(err).body;
  return { code: error.code ?? error.type, message: error.message };
}

/**
 * Streams a run as the Responses event stream (RESPONSES.md §3): opened at once with
 * `response.created`, then the events its deliveries render, numbered from the start of the run
 * whatever the reader resumed from, so a resume after N gets exactly the events after N. Every
 * stream ends with `response.completed`, `.incomplete` or `.failed`, never only an `error`
 * event (Codex ignores it): an answer that changed attempt after some of it was rendered, a
 * passed deadline and a gateway that is stopping end it as `response.failed` too.
 */
export async function streamResponse(
  reader: RunReader,
  res: ServerResponse,
  opts: ResponseStreamOptions,
): Promise<void> {
  let terminalAt: number | undefined;
  const renderer = new ResponseEventRenderer(opts.ctx, {
    ...(opts.startingAfter !== undefined ? { startingAfter: opts.startingAfter } : {}),
    clock: () => terminalAt ?? Math.floor(Date.now() / 1000),
  });
  let rendered = false;
  opts.open();
  const keepAlive = new KeepAlive(res, opts.keepAliveMs);
  const end = (text: string) => {
    if (!res.destroyed) res.end(text);
  };
  try {
    if (!(await writeSse(res, responseEventsSse(renderer.begin())))) return;
    for (;;) {
      let batch: Delivery[] | null;
      try {
        batch = await reader.next();
      } catch (err) {
        return end(responseEventsSse(renderer.abort(failureOf(err))));
      }
      if (batch === null) {
        return end(
          responseEventsSse(
            renderer.abort(failureOf(new GatewayStoppingError(reader.run.streamId))),
          ),
        );
      }
      opts.firstChunk?.(batch);
      let out = "";
      for (const d of batch) {
        if (d.kind === "reset") {
          // Never two attempts in one stream: the client reads the whole answer again.
          if (!rendered && !opts.startingAfter) continue;
          reader.run.keepToEnd();
          const err = new StreamInterruptedError(reader.run.streamId);
          return end(out + responseEventsSse(renderer.abort(failureOf(err))));
        }
        if (d.kind !== "delta") terminalAt = d.at;
        out += responseEventsSse(renderer.push(d));
        rendered = true;
        if (renderer.done) return end(out);
      }
      keepAlive.touch();
      if (out && !(await writeSse(res, out))) return;
    }
  } finally {
    keepAlive.stop();
  }
}

/**
 * Waits for the end of a run and answers its response object (completed or incomplete); a
 * failed run is the HTTP error it reports ({@link CapabilityFailedError}), as for chat.
 */
export async function collectResponse(
  reader: RunReader,
  ctx: ResponseContext,
): Promise<ResponseObject> {
  let deliveries: Delivery[] = [];
  for (let batch = await reader.next(); batch; batch = await reader.next()) {
    for (const d of batch) {
      if (d.kind === "reset") {
        deliveries = [];
        continue;
      }
      deliveries.push(d);
      if (d.kind === "failed") throw CapabilityFailedError.from(d.payload);
      if (d.kind === "completed") {
        const inputs = renderInputs(deliveries);
        const clock = endedAt(inputs);
        return responseObjectOf(ctx, inputs, clock ? { clock } : {});
      }
    }
  }
  throw new GatewayStoppingError(reader.run.streamId);
}
