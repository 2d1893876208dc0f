import type { Capability } from "../../../contracts/index.js";
import type { GatewayError } from "../../errors.js";
import type { Principal } from "../../ports.js";
import type { ChatRun } from "../runs/chat-run.js";
import type { ChatRuns } from "../runs/chat-runs.js";
import type { RunSpec, StartOptions } from "../runs/run-spec.js";
import { mayUse } from "./access.js";
import { RateLimitedError, type StreamCounter } from "./limits.js";

/** A key's request budget after one more request (from @fastify/rate-limit's store). */
export type RateState =
  | { isAllowed: true }
  | { isAllowed: false; max: number; remaining: number; ttlInSeconds: number; isExceeded: boolean };

/** The key a per-key limit counts against. */
export const limitKey = (p: Principal) => p.keyId ?? `tenant:${p.tenant}`;

/**
 * One kind of work a surface asks for (a chat, an editor action, a response): how its raw input
 * is read and validated, and how it runs. The door applies the steps in its own order.
 */
export interface WorkKind<P, I> {
  /** Reads the raw input as far as it takes to know what it names: 400, or the kind's 404. */
  parse(raw: unknown): P | Promise<P>;
  /** The capability the parsed input names (checked against the key's models). */
  capability(parsed: P): Capability;
  /** What a key that may not use it is told: the same answer as for a missing capability. */
  notFound(parsed: P): GatewayError;
  /** The rest of the validation and the per-request limits (400, 413): the admitted input. */
  validate(parsed: P): I;
  /** How the admitted input runs. */
  runSpec(input: I, opts: StartOptions): RunSpec;
}

/** Admitted work: its run (started), its input, and the key's rate after it. */
export interface Ticket<I> {
  run: ChatRun;
  input: I;
  rate: RateState;
}

/**
 * The one admission door every surface uses (HTTP chat and editor actions, WebSocket, MCP, the
 * Responses API): parse → model access → limits → rate → slot → run. Only work that would be
 * accepted counts against the key's rate; the stream slot is held by the run until it ends (or
 * released at once if it never starts). Throws the error the surface reports.
 */
export class AdmissionDoor {
  constructor(
    private readonly deps: {
      runs: ChatRuns;
      streams: StreamCounter;
      defaultMaxStreams: number;
      /** Counts one request against the key's budget. */
      takeRate(principal: Principal): Promise<RateState>;
    },
  ) {}

  async admit<P, I>(
    kind: WorkKind<P, I>,
    raw: unknown,
    opts: Omit<StartOptions, "releaseSlot">,
  ): Promise<Ticket<I>> {
    const parsed = await kind.parse(raw);
    if (!mayUse(opts.principal, kind.capability(parsed).id)) throw kind.notFound(parsed);
    const input = kind.validate(parsed);
    const rate = await this.rate(opts.principal);
    const releaseSlot = this.slot(opts.principal);
    const run = await this.deps.runs.start(kind.runSpec(input, opts), { ...opts, releaseSlot });
    return { run, input, rate };
  }

  /** Counts an accepted request against its key's rate; 429 with `retry-after` when over. */
  private async rate(principal: Principal): Promise<RateState> {
    const rate = await this.deps.takeRate(principal);
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
  private slot(principal: Principal): () => void {
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
