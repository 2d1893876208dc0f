import type { ContextName } from "../../contracts/index.js";
import type { CancelBroadcast } from "../ports.js";

/** The client of the stream left, or asked to stop it; its work was stopped. */
export class StreamCancelledError extends Error {
  override name = "StreamCancelledError";
}

const keyOf = (tenant: string, streamId: string) => `${tenant}\n${streamId}`;

/**
 * The chat commands running in this worker, by tenant and stream id (stream ids are a
 * tenant's own), so a cancellation announced by any worker stops the one running here, and the
 * worker's shutdown stops them all.
 */
export class RunningCommands {
  private readonly running = new Map<string, AbortController>();
  /** Every run, a duplicate delivery's too (the map holds the latest per stream). */
  private readonly all = new Set<AbortController>();
  private readonly stopListening: () => void;

  constructor(broadcast: CancelBroadcast, context: ContextName, shutdown: AbortSignal) {
    this.stopListening = broadcast.listen(context, (tenant, streamId) => {
      this.running.get(keyOf(tenant, streamId))?.abort(new StreamCancelledError("the client left"));
    });
    // One listener for the worker's shutdown, rather than a combined signal per command.
    shutdown.addEventListener(
      "abort",
      () => {
        for (const c of this.all) c.abort(shutdown.reason);
      },
      { once: true },
    );
    this.shutdown = shutdown;
  }

  private readonly shutdown: AbortSignal;

  /**
   * Registers a run; returns its controller and a function that forgets it. A duplicate
   * delivery running here at the same time has its own entry, which forgetting this one keeps.
   */
  add(tenant: string, streamId: string): { controller: AbortController; forget: () => void } {
    const key = keyOf(tenant, streamId);
    const controller = new AbortController();
    if (this.shutdown.aborted) controller.abort(this.shutdown.reason);
    this.running.set(key, controller);
    this.all.add(controller);
    return {
      controller,
      forget: () => {
        this.all.delete(controller);
        if (this.running.get(key) === controller) this.running.delete(key);
      },
    };
  }

  get size(): number {
    return this.all.size;
  }

  close(): void {
    this.stopListening();
  }
}
