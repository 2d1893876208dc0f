import type { FastifyRequest } from "fastify";
import type { Principal } from "../ports.js";
import { RateLimitedError, type StreamCounter } from "./limits.js";

/** A key's request budget after one more request (from @fastify/rate-limit's store). */
export type RateState =
  | { isAllowed: true }
  | { isAllowed: false; max: number; remaining: number; ttlInSeconds: number; isExceeded: boolean };

/** The key a per-key limit counts against. */
export const limitKey = (p: Principal) => p.keyId ?? `tenant:${p.tenant}`;

/**
 * The per-key limits every surface applies to work it accepts (HTTP chat and actions, WebSocket,
 * MCP tool calls): the key's request rate and its open stream slots, counted once whichever
 * surface the work came through.
 */
export class Admission {
  constructor(
    private readonly deps: {
      streams: StreamCounter;
      defaultMaxStreams: number;
      /** Counts one request against the key's budget. */
      takeRate(req: FastifyRequest): Promise<RateState>;
    },
  ) {}

  /** Counts an accepted request against its key's rate; 429 with `retry-after` when over. */
  async rate(req: FastifyRequest): Promise<RateState> {
    const rate = await this.deps.takeRate(req);
    if (!rate.isAllowed && rate.isExceeded) {
      throw new RateLimitedError(
        `Rate limit reached: ${rate.max} requests per minute for this key.`,
        rate.ttlInSeconds,
        "rate_limit_exceeded",
      );
    }
    return rate;
  }

  /** Takes one of the key's stream slots (429 when none is free); returns its release. */
  slot(principal: Principal): () => void {
    return this.deps.streams.acquire(
      limitKey(principal),
      principal.limits?.maxStreams ?? this.deps.defaultMaxStreams,
    );
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
