import type { ServerResponse } from "node:http";
import { CapabilityFailedError, GatewayStoppingError, toOpenAIError } from "../../errors.js";
import { ActionResultBuilder, type EditorActionResponse } from "../editor/action-result.js";
import type { RunReader } from "../runs/run-reader.js";
import type { RunView } from "./run-view.js";
import { streamRun, type SseFormat, type SseOptions } from "./run-sse.js";

/** One named SSE event; a delta's events carry its seq as `id:` (the resume cursor). */
const event = (name: string, data: unknown, id?: number) =>
  `${id === undefined ? "" : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

const errorEvent = (err: unknown) => event("error", toOpenAIError(err).body);

/** The collected result of a run, as the JSON response and the `done` event carry it. */
function response(reader: RunReader, result: ReturnType<ActionResultBuilder["complete"]>) {
  const r: EditorActionResponse = {
    id: reader.run.streamId,
    object: "editor.action.result",
    action: reader.run.identity.model,
    ...result,
  };
  return r;
}

/**
 * Editor action events: `text` (`{"text"}`), `edit` (a text edit), `diagnostic`, then `done` with
 * the whole result (the JSON response's body), or `error` (`{"error"}`). The events of one delta
 * share its `id:`; `Last-Event-ID` resumes after it.
 */
function actionFormat(reader: RunReader): SseFormat {
  const result = new ActionResultBuilder();
  return {
    opening: () => "",
    delta: ({ seq, payload }) => {
      result.add(payload);
      let out = payload.content ? event("text", { text: payload.content }, seq) : "";
      for (const e of payload.edits ?? []) out += event("edit", e, seq);
      for (const d of payload.diagnostics ?? []) out += event("diagnostic", d, seq);
      return out;
    },
    completed: (d) => event("done", response(reader, result.complete(d.payload))),
    error: errorEvent,
  };
}

/** Waits for the end of the run; throws {@link CapabilityFailedError} for a failed one. */
async function collectAction(reader: RunReader): Promise<EditorActionResponse> {
  const result = new ActionResultBuilder();
  for (let batch = await reader.next(); batch; batch = await reader.next()) {
    for (const d of batch) {
      if (d.kind === "reset") result.reset();
      else if (d.kind === "delta") result.add(d.payload);
      else if (d.kind === "completed") return response(reader, result.complete(d.payload));
      else throw CapabilityFailedError.from(d.payload);
    }
  }
  throw new GatewayStoppingError(reader.run.streamId);
}

/** How editor action runs are presented over HTTP. */
export const ACTION_VIEW: RunView = {
  stream: (reader: RunReader, res: ServerResponse, opts: SseOptions) =>
    streamRun(reader, res, opts, actionFormat(reader)),
  collect: collectAction,
  streamError: errorEvent,
};
