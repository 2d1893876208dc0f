/** What the orchestrator asks the load client to do, and what it reports back (JSON lines). */

/** One request of a scenario: its own tag and text, the gateway it is sent to first, when. */
export interface PlannedRequest {
  tag: string;
  model: string;
  text: string;
  idempotencyKey: string;
  /** Index into {@link LoadPlan.gateways}. */
  gateway: number;
  /** When to send it, after the load starts (ms). */
  atMs: number;
}

export interface LoadPlan {
  /** Base URLs ending in `/v1`, one per gateway instance. */
  gateways: string[];
  key: string;
  requests: PlannedRequest[];
  /** A client gives up on a request after this long (it is then lost, or stalled). */
  timeoutMs: number;
  /** Resumes and retries after a broken connection before giving up. */
  maxResumes: number;
}

/** One HTTP exchange of a request: the first POST, a retried POST, or a resume (GET events). */
export interface Exchange {
  kind: "post" | "retry" | "resume";
  gateway: number;
  /** HTTP status, or 0 when no response came (connection refused or reset). */
  status: number;
  /** How the exchange ended. */
  end: "done" | "error-event" | "http-error" | "broken" | "refused" | "timeout";
}

/** What a client saw of one request. */
export interface RequestReport {
  tag: string;
  /** `X-Stream-Id` as the gateway named it (empty if no response ever came). */
  streamId: string;
  /**
   * `done`: `[DONE]` after the answer; `error`: an HTTP error or an error event (a clear
   * error); `broken`: connections broke and resumes ran out; `timeout`: still waiting at the
   * client's deadline.
   */
  outcome: "done" | "error" | "broken" | "timeout";
  error?: { status: number; code: string | null; message: string };
  /** The content received, all exchanges together. */
  text: string;
  exchanges: Exchange[];
  startedAt: number;
  endedAt: number;
  /** Epoch ms of every content chunk received. */
  chunkTimes: number[];
}
