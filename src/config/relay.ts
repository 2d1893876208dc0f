import { durationMs, int } from "./builders.js";
import { setting } from "./settings.js";

/** Settings of the outbox relays (`up`, `relay`), and of immediate dispatch. */
export const relaySettings = {
  relay: {
    batchSize: setting("RELAY_BATCH_SIZE", int(100, 1)),
    pollMs: setting("RELAY_POLL_MS", durationMs(1000, 10)),
    /** How long relays leave a fresh row to the process that wrote and dispatches it. */
    dispatchGraceMs: setting("OUTBOX_DISPATCH_GRACE_MS", durationMs(1000)),
  },
} as const;
