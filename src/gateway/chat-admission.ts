import type { FastifyRequest } from "fastify";
import type { Log } from "../log.js";
import type { Principal } from "../ports.js";
import { assertModelAccess } from "./auth.js";
import type { ChatCommands, ChatInput, ClientOrigin } from "./chat-commands.js";
import { assertPromptWithinLimits, RateLimitedError, type StreamCounter } from "./limits.js";
import type { ChatRun } from "./runs/chat-run.js";
import type { ChatRuns } from "./runs/chat-runs.js";

/** A key's request budget after one more request (from @fastify/rate-limit's store). */
export type RateState =
  | { isAllowed: true }
  | { isAllowed: false; max: number; remaining: number; ttlInSeconds: number; isExceeded: boolean };

/** What admitting a chat needs. */
export interface ChatAdmissionDeps {
  commands: ChatCommands;
  runs: ChatRuns;
  streams: StreamCounter;
  limits: { maxMessages: number; maxPromptChars: number; defaultMaxStreams: number };
  /** Counts one request against the key's budget. */
  takeRate(req: FastifyRequest): Promise<RateState>;
}

/** The key a per-key limit counts against. */
export const limitKey = (p: Principal) => p.keyId ?? `tenant:${p.tenant}`;

/**
 * Admits a chat request from any surface (HTTP, WebSocket, MCP): validation, model access,
 * prompt limits, then the key's rate (only requests that would be accepted count) and stream
 * slot, then the run. Throws the error the surface reports.
 */
export class ChatAdmission {
  constructor(private readonly deps: ChatAdmissionDeps) {}

  async start(
    req: FastifyRequest,
    body: unknown,
    opts: {
      principal: Principal;
      correlationId: string;
      log: Log;
      origin?: ClientOrigin;
      idempotencyKey?: string | undefined;
      streamId?: string | undefined;
    },
  ): Promise<{ run: ChatRun; input: ChatInput; rate: RateState }> {
    const { principal } = opts;
    const input = this.deps.commands.parse(body);
    assertModelAccess(principal, input.capability.id);
    assertPromptWithinLimits(input.request.messages, this.deps.limits);
    const rate = await this.deps.takeRate(req);
    if (!rate.isAllowed && rate.isExceeded) {
      throw new RateLimitedError(
        `Rate limit reached: ${rate.max} requests per minute for this key.`,
        rate.ttlInSeconds,
        "rate_limit_exceeded",
      );
    }
    const releaseSlot = this.deps.streams.acquire(
      limitKey(principal),
      principal.limits?.maxStreams ?? this.deps.limits.defaultMaxStreams,
    );
    const run = await this.deps.runs.start(input, { ...opts, releaseSlot });
    return { run, input, rate };
  }
}

/** The `x-ratelimit-*` headers of an admitted request. */
export function rateHeaders(rate: RateState): Record<string, string> {
  if (rate.isAllowed) return {};
  return {
    "x-ratelimit-limit": String(rate.max),
    "x-ratelimit-remaining": String(rate.remaining),
    "x-ratelimit-reset": String(rate.ttlInSeconds),
  };
}
