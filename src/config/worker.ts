import { z } from "zod";
import { durationMs, durationSecs, int, optionalText, optionalUrl } from "./builders.js";
import { setting } from "./settings.js";

const httpUrl = () => optionalUrl(["http://", "https://"]);
const flag = () =>
  z
    .enum(["true", "false"], { error: "must be true or false" })
    .default("true")
    .transform((v) => v === "true");

/** Settings of the workers (`up`, `worker`): consumption, ack rules, handlers. */
export const workerSettings = {
  worker: {
    batchSize: setting("BATCH_SIZE", int(50, 1)),
    maxInflight: setting("MAX_INFLIGHT", int(2048, 1)),
    /** The inbox lease of a running command (and the consumer's ack wait), in milliseconds. */
    ackWaitMs: setting("ACK_WAIT_SECS", durationSecs(4, 1), (secs) => secs * 1000),
    maxDeliver: setting("MAX_DELIVER", int(20, 1)),
  },
  /** The built-in echo handler's pause between words. */
  echoDelayMs: setting("ECHO_DELAY_MS", durationMs(0)),
  /** An OpenAI-compatible model server for the `openai` handler. */
  upstream: {
    baseUrl: setting("UPSTREAM_OPENAI_BASE_URL", httpUrl()),
    apiKey: setting("UPSTREAM_OPENAI_API_KEY", z.string().optional()),
    model: setting("UPSTREAM_MODEL", optionalText()),
  },
  /** Handler services (the HTTP handler contract) per context, for the `http` handler. */
  handlerUrls: {
    sea: setting("SEA_HANDLER_URL", httpUrl()),
    vibespro: setting("VIBESPRO_HANDLER_URL", httpUrl()),
  },
  handlerTimeoutMs: setting("HANDLER_TIMEOUT_MS", durationMs(120_000, 100)),
  /**
   * False: a gateway's readers take the live results of the workers of their own process
   * (`up`) over NATS like any other, instead of directly (see LocalLiveBus).
   */
  localLiveDelivery: setting("LOCAL_LIVE_DELIVERY", flag()),
  /**
   * False: a command the gateway of `up` wrote waits for JetStream's delivery like any other,
   * instead of being handed to the worker of its own process at commit (see
   * LocalCommandHandoff).
   */
  localCommandHandoff: setting("LOCAL_COMMAND_HANDOFF", flag()),
} as const;
