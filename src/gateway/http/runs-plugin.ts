import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { Log } from "../../log.js";
import type { ChatRuns } from "../runs/chat-runs.js";

/** Once open streams have been ended, how long their connections get to close on their own. */
const CUTOFF_AFTER_END_MS = 1_000;

/**
 * The runs' part of a staged close, owned by the gateway app (so no caller reaches into its
 * runs): when the app starts closing, open requests get `graceMs()` (the workers still run);
 * then the streams still open end with an error event saying where to resume them (the answers
 * go on through the durable path), and connections still open a second later are cut off.
 * Every run is disposed once the server has closed.
 */
export const runsPlugin = fp(
  async (app: FastifyInstance, opts: { runs: ChatRuns; graceMs: () => number; log: Log }) => {
    let ending: NodeJS.Timeout | undefined;
    let cutoff: NodeJS.Timeout | undefined;
    app.addHook("preClose", async () => {
      ending = setTimeout(() => {
        const open = opts.runs.size;
        if (open > 0) opts.log.warn({ streams: open }, "ending open streams; clients resume");
        opts.runs.closeAll();
        cutoff = setTimeout(() => app.server.closeAllConnections(), CUTOFF_AFTER_END_MS);
      }, opts.graceMs());
    });
    app.addHook("onClose", async () => {
      clearTimeout(ending);
      clearTimeout(cutoff);
      opts.runs.closeAll();
    });
  },
  { name: "sea-runs", fastify: "5.x" },
);
